import CHOMAPI
import Foundation
import Synchronization

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// An in-process stand-in for the coordinator: an `AdminClient` whose session answers from a queue
/// of canned responses and records every request it sends. Each stub has its own host name, so
/// tests running in parallel do not see each other's traffic.
final class StubCoordinator: Sendable {
    struct Request: Sendable {
        var method: String
        var url: URL
        var headers: [String: String]
        var body: Data

        var pathAndQuery: String {
            guard let query = url.query(percentEncoded: true) else { return url.path(percentEncoded: true) }
            return url.path(percentEncoded: true) + "?" + query
        }

        func header(_ name: String) -> String? {
            headers.first { $0.key.caseInsensitiveCompare(name) == .orderedSame }?.value
        }

        func json() throws -> [String: String] {
            try JSONDecoder().decode([String: String].self, from: body)
        }
    }

    struct Response: Sendable {
        var status: Int
        var headers: [String: String] = ["Content-Type": "application/json"]
        var body: Data

        static func json(_ status: Int, _ text: String) -> Response { Response(status: status, body: Data(text.utf8)) }
        static let noContent = Response(status: 204, headers: [:], body: Data())
    }

    let host = "stub-\(UUID().uuidString.lowercased()).test"
    private let state = Mutex<(responses: [Response], requests: [Request])>(([], []))

    /// Registered for the rest of the test process (a few per test run).
    init(_ responses: [Response]) {
        state.withLock { $0.responses = responses }
        Self.registry.withLock { $0[host] = self }
    }

    func client(token: String?) -> AdminClient {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.protocolClasses = [StubURLProtocol.self]
        let url = URL(string: "http://\(host)") ?? URL(fileURLWithPath: "/")
        return AdminClient(baseURL: url, token: token, session: URLSession(configuration: configuration))
    }

    var requests: [Request] { state.withLock { $0.requests } }

    fileprivate func answer(_ request: Request) -> Response {
        state.withLock { state in
            state.requests.append(request)
            guard !state.responses.isEmpty else {
                return .json(500, #"{"type":"about:blank","title":"Internal Server Error","status":500,"detail":"no canned response"}"#)
            }
            return state.responses.removeFirst()
        }
    }

    fileprivate static let registry = Mutex<[String: StubCoordinator]>([:])
}

/// Hands the session's requests to the `StubCoordinator` registered for their host.
final class StubURLProtocol: URLProtocol {
    override class func canInit(with request: URLRequest) -> Bool { true }
    override class func canonicalRequest(for request: URLRequest) -> URLRequest { request }

    override func startLoading() {
        guard let url = request.url, let host = url.host,
            let stub = StubCoordinator.registry.withLock({ $0[host] })
        else {
            client?.urlProtocol(self, didFailWithError: URLError(.cannotFindHost))
            return
        }
        let recorded = StubCoordinator.Request(
            method: request.httpMethod ?? "GET", url: url, headers: request.allHTTPHeaderFields ?? [:],
            body: request.httpBody ?? Self.read(request.httpBodyStream))
        let answer = stub.answer(recorded)
        guard
            let response = HTTPURLResponse(
                url: url, statusCode: answer.status, httpVersion: "HTTP/1.1", headerFields: answer.headers)
        else {
            client?.urlProtocol(self, didFailWithError: URLError(.badServerResponse))
            return
        }
        client?.urlProtocol(self, didReceive: response, cacheStoragePolicy: .notAllowed)
        client?.urlProtocol(self, didLoad: answer.body)
        client?.urlProtocolDidFinishLoading(self)
    }

    override func stopLoading() {}

    private static func read(_ stream: InputStream?) -> Data {
        guard let stream else { return Data() }
        stream.open()
        defer { stream.close() }
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while stream.hasBytesAvailable {
            let count = stream.read(&buffer, maxLength: buffer.count)
            guard count > 0 else { break }
            data.append(buffer, count: count)
        }
        return data
    }
}
