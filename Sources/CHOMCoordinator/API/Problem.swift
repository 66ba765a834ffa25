import CHOMAPI
import CHOMCore
import CHOMStore
import Foundation
import Hummingbird
import Logging
import NIOCore

/// Maps any error to an `application/problem+json` response. The only place errors become HTTP.
enum Problem {
    static func response(for error: any Error) -> (status: HTTPResponse.Status, body: ProblemDetails) {
        switch error {
        case let error as CHOMError:
            let status = status(for: error.code)
            return (status, ProblemDetails(title: status.reasonPhrase, status: status.code, detail: error.message))
        case let refused as PlacementRefused:
            var body = ProblemDetails(
                type: PlacementRefused.problemType, title: "Conflict", status: 409, detail: refused.description)
            if refused.listsAgents { body.agents = refused.agents }
            return (.conflict, body)
        case let exceeded as QuotaExceeded:
            var body = ProblemDetails(
                type: QuotaExceeded.problemType, title: "Forbidden", status: 403, detail: exceeded.description)
            body.quota = exceeded.quota.rawValue
            body.limit = exceeded.limit
            body.usage = exceeded.usage
            return (.forbidden, body)
        case let conflict as SiteClaimConflict:
            // Normally made precise by `AdminAPI.claiming`; never says whose.
            return response(for: AdminAPI.problem(conflict, holder: nil))
        case is RateLimited:
            return (.tooManyRequests, ProblemDetails(
                title: "Too Many Requests", status: 429, detail: "too many attempts; retry later"))
        case let error as HTTPError:
            let detail = error.body ?? defaultDetail(error.status)
            return (error.status, ProblemDetails(title: error.status.reasonPhrase, status: error.status.code, detail: detail))
        case let error as any HTTPResponseError:
            return (error.status, ProblemDetails(title: error.status.reasonPhrase, status: error.status.code, detail: defaultDetail(error.status)))
        default:
            return (.internalServerError, ProblemDetails(
                title: "Internal Server Error", status: 500, detail: "the coordinator failed to handle the request"))
        }
    }

    static func status(for code: CHOMError.Code) -> HTTPResponse.Status {
        switch code {
        case .invalidInput: .badRequest
        case .notFound: .notFound
        case .conflict: .conflict
        case .unauthorized: .unauthorized
        case .forbidden: .forbidden
        case .payloadTooLarge: .contentTooLarge
        case .unavailable: .serviceUnavailable
        case .refused: .unprocessableContent
        case .configuration, .integrity, .internal: .internalServerError
        }
    }

    static func defaultDetail(_ status: HTTPResponse.Status) -> String {
        switch status {
        case .notFound: "no such route"
        case .contentTooLarge: "the request body is larger than the limit"
        case .methodNotAllowed: "method not allowed on this route"
        default: status.reasonPhrase
        }
    }

    static func httpResponse(for error: any Error) -> Response {
        let (status, body) = response(for: error)
        let data = (try? APIJSON.encoder().encode(body)) ?? Data()
        var headers = HTTPFields()
        headers[.contentType] = "application/problem+json"
        if status == .unauthorized { headers[.wwwAuthenticate] = "Bearer" }
        if let limited = error as? RateLimited { headers[.retryAfter] = "\(limited.retryAfterSeconds)" }
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// Catches every error below it and answers with problem+json; counts requests by route template.
struct ProblemMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: CoordinatorMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        let response: Response
        do {
            response = try await next(request, context)
        } catch {
            if !(error is CHOMError || error is any HTTPResponseError) {
                context.logger.error("request failed", metadata: [LogKey.error: "\(String(reflecting: error))"])
            }
            response = Problem.httpResponse(for: error)
        }
        metrics.httpRequest(
            method: request.method.rawValue, route: context.endpointPath ?? "unmatched", status: response.status.code)
        return response
    }
}
