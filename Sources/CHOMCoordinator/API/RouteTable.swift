import Hummingbird

/// Registers admin API routes, each with its `APIAction`: the handler runs only after
/// `AccessControl.authorize` accepted the caller for that action. No route is added any other way.
struct RouteTable {
    typealias Handler = @Sendable (Request, APIRequestContext, Caller) async throws -> Response

    let router: Router<APIRequestContext>
    let access: AccessControl

    func on(_ method: HTTPRequest.Method, _ path: String, _ action: APIAction, _ handler: @escaping Handler) {
        let access = self.access
        router.on(RouterPath(path), method: method) { request, context in
            let caller = try await access.authorize(action, request, context)
            var response = try await handler(request, context, caller)
            response.headers[AccessControl.requestIDHeader] = caller.requestID
            return response
        }
    }
}
