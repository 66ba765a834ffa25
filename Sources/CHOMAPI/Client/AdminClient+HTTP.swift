package import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The HTTP plumbing under the route methods: building requests, sending them, and turning the
/// answer into a value or an `AdminClientError`.
extension AdminClient {
    enum Method: String {
        case get = "GET"
        case post = "POST"
        case patch = "PATCH"
        case put = "PUT"
        case delete = "DELETE"
    }

    /// A JSON route with no request body. `authenticated: false` sends no bearer token even when
    /// the client has one (the sign-in routes).
    func json<Response: Decodable>(_ method: Method, _ path: String, authenticated: Bool = true)
        async throws(AdminClientError) -> Response
    {
        let request = makeRequest(method, path, authenticated: authenticated)
        let (data, response) = try await exchange(request, upload: nil)
        return try decode(Response.self, data, response, request)
    }

    /// A JSON route with a JSON request body.
    func json<Body: Encodable, Response: Decodable>(
        _ method: Method, _ path: String, body: Body, authenticated: Bool = true
    ) async throws(AdminClientError) -> Response {
        let request = try makeRequest(method, path, body: body, authenticated: authenticated)
        let (data, response) = try await exchange(request, upload: nil)
        return try decode(Response.self, data, response, request)
    }

    /// A route that answers 204 No Content.
    func noContent(_ method: Method, _ path: String) async throws(AdminClientError) {
        let request = makeRequest(method, path)
        let (data, response) = try await exchange(request, upload: nil)
        _ = try checkStatus(data, response)
    }

    /// A route with a JSON request body that answers 204 No Content.
    func noContent<Body: Encodable>(_ method: Method, _ path: String, body: Body) async throws(AdminClientError) {
        let request = try makeRequest(method, path, body: body)
        let (data, response) = try await exchange(request, upload: nil)
        _ = try checkStatus(data, response)
    }

    /// A route that answers UTF-8 text (`text/plain`).
    func text(_ method: Method, _ path: String) async throws(AdminClientError) -> String {
        let request = makeRequest(method, path, accept: "text/plain, application/problem+json")
        let (data, response) = try await exchange(request, upload: nil)
        guard let text = String(data: try checkStatus(data, response), encoding: .utf8) else {
            throw .decoding("the coordinator's answer to \(method.rawValue) \(path) is not UTF-8 text")
        }
        return text
    }

    func makeRequest(
        _ method: Method, _ path: String, contentType: String? = nil,
        accept: String = "application/json, application/problem+json", authenticated: Bool = true
    ) -> URLRequest {
        var base = baseURL.absoluteString
        while base.hasSuffix("/") { base.removeLast() }
        // `path` is built from constant route text, `segment(_:)`-escaped values and a `query(_:)`
        // string, so it parses.
        var request = URLRequest(url: URL(string: base + path) ?? baseURL)
        request.httpMethod = method.rawValue
        request.setValue(accept, forHTTPHeaderField: "Accept")
        if let contentType { request.setValue(contentType, forHTTPHeaderField: "Content-Type") }
        if authenticated, let token { request.setValue("Bearer \(token.value)", forHTTPHeaderField: "Authorization") }
        return request
    }

    func makeRequest<Body: Encodable>(_ method: Method, _ path: String, body: Body, authenticated: Bool = true)
        throws(AdminClientError) -> URLRequest
    {
        var request = makeRequest(method, path, contentType: "application/json", authenticated: authenticated)
        do {
            request.httpBody = try APIJSON.encoder().encode(body)
        } catch {
            throw .decoding("cannot encode the request for \(method.rawValue) \(path): \(error)")
        }
        return request
    }

    /// Percent-encodes one path segment (an ID or a domain), "/" included.
    func segment(_ value: String) -> String {
        var allowed = CharacterSet.urlPathAllowed
        allowed.remove(charactersIn: "/;?#%")
        return value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value
    }

    func exchange(_ request: URLRequest, upload body: Data?) async throws(AdminClientError) -> (Data, HTTPURLResponse) {
        let data: Data
        let response: URLResponse
        do {
            if let body {
                (data, response) = try await session.upload(for: request, from: body)
            } else {
                (data, response) = try await session.data(for: request)
            }
        } catch {
            throw .transport("cannot reach the coordinator at \(baseURL.absoluteString): \(Self.reason(error))")
        }
        guard let http = response as? HTTPURLResponse else {
            throw .transport("the coordinator at \(baseURL.absoluteString) did not answer with HTTP")
        }
        return (data, http)
    }

    func decode<T: Decodable>(_ type: T.Type, _ data: Data, _ response: HTTPURLResponse, _ request: URLRequest)
        throws(AdminClientError) -> T
    {
        let data = try checkStatus(data, response)
        do {
            return try APIJSON.decoder().decode(T.self, from: data)
        } catch {
            let route = "\(request.httpMethod ?? "GET") \(request.url?.path ?? "")"
            throw .decoding("the coordinator's answer to \(route) is not a valid \(T.self): \(Self.reason(error))")
        }
    }

    /// Returns the body of a 2xx answer; throws `.rateLimited` for a 429 and `.problem` for anything else.
    func checkStatus(_ data: Data, _ response: HTTPURLResponse) throws(AdminClientError) -> Data {
        guard !(200..<300).contains(response.statusCode) else { return data }
        let problem = Self.problem(from: data, status: response.statusCode)
        if response.statusCode == 429 {
            throw .rateLimited(problem, retryAfter: Self.retryAfter(response.value(forHTTPHeaderField: "Retry-After")))
        }
        throw .problem(problem)
    }

    /// A `Retry-After` header in delay-seconds form (the only form the coordinator sends); nil when
    /// absent or not a non-negative integer.
    package static func retryAfter(_ header: String?) -> Duration? {
        guard let header, let seconds = Int64(header.trimmingCharacters(in: .whitespaces)), seconds >= 0 else {
            return nil
        }
        return .seconds(seconds)
    }

    /// The problem+json body, or one made up from the status when the body is not problem details
    /// (a proxy's HTML page, an empty 502).
    package static func problem(from data: Data, status: Int) -> ProblemDetails {
        if let problem = try? APIJSON.decoder().decode(ProblemDetails.self, from: data) { return problem }
        let title = HTTPURLResponse.localizedString(forStatusCode: status)
        let text = String(decoding: data.prefix(200), as: UTF8.self)
            .split(whereSeparator: \.isNewline).first.map(String.init)?
            .trimmingCharacters(in: .whitespaces) ?? ""
        let printable = !text.isEmpty && !text.hasPrefix("<") && !text.hasPrefix("{")
        let detail = printable ? text : "the coordinator answered \(status) \(title.lowercased())"
        return ProblemDetails(title: title, status: status, detail: detail)
    }

    /// A short reason for a transport or decoding error.
    static func reason(_ error: any Error) -> String {
        if let error = error as? URLError {
            switch error.code {
            case .cannotConnectToHost: return "connection refused"
            case .cannotFindHost, .dnsLookupFailed: return "host not found"
            case .timedOut: return "timed out"
            case .networkConnectionLost: return "the connection was lost"
            case .notConnectedToInternet: return "the network is unreachable"
            case .secureConnectionFailed, .serverCertificateUntrusted, .serverCertificateHasBadDate,
                .serverCertificateNotYetValid, .serverCertificateHasUnknownRoot, .clientCertificateRejected:
                return "the TLS handshake failed"
            case .badURL, .unsupportedURL: return "the address is not a valid http(s) URL"
            case .cancelled: return "cancelled"
            default: return "URL error \(error.code.rawValue)"
            }
        }
        if let error = error as? DecodingError {
            switch error {
            case .keyNotFound(let key, _): return "missing field '\(key.stringValue)'"
            case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
                let path = context.codingPath.map(\.stringValue).joined(separator: ".")
                return path.isEmpty ? context.debugDescription : "field '\(path)': \(context.debugDescription)"
            @unknown default: return "\(error)"
            }
        }
        return "\(error)"
    }
}
