import AsyncHTTPClient
import CHOMAgent
import CHOMCore
import Foundation
import NIOCore
import NIOHTTP1

/// HTTP to the hosts' nginx: from the root namespace (which routes to the bridge), or from inside
/// a host's namespace with curl (host to host, as a migration's proxy or a failover check sees it).
extension NamespaceHarness {
    /// `GET http://<host address><path>` with `Host: hostHeader`, from the root namespace, on a
    /// client of its own.
    package func fetch(
        host: NamespaceHost, path: String = "/", hostHeader: String, timeout: Duration = .seconds(5)
    ) async throws -> TestHTTP.Reply {
        var request = HTTPClientRequest(url: "http://\(host.address)\(path)")
        request.headers.replaceOrAdd(name: "Host", value: hostHeader)
        request.headers.replaceOrAdd(name: "Connection", value: "close")
        // A client of its own: the shared one's pool may hold a connection attempt to a host that
        // was cut off (SYN retries), which a request after `reconnect` would wait behind.
        let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup)
        do {
            let reply = try await Self.get(request, client: client, timeout: timeout)
            try await client.shutdown()
            return reply
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    private static func get(
        _ request: HTTPClientRequest, client: HTTPClient, timeout: Duration
    ) async throws -> TestHTTP.Reply {
        let response = try await client.execute(request, timeout: .milliseconds(Int64(timeout / .milliseconds(1))))
        let body = try await response.body.collect(upTo: 16 << 20)
        var headers: [String: String] = [:]
        for header in response.headers { headers[header.name.lowercased()] = header.value }
        return TestHTTP.Reply(status: Int(response.status.code), headers: headers, body: Data(body.readableBytesView))
    }
}

extension NamespaceHost {
    /// `GET url` with `Host: hostHeader` by curl inside this host's namespace. Throws when curl
    /// gets no HTTP answer at all (refused, unreachable, timed out).
    package func fetchInside(
        _ url: String, hostHeader: String, timeout: Duration = .seconds(5)
    ) async throws -> TestHTTP.Reply {
        let marker = "\n--chom-status:"
        let outcome = try await run(
            [
                "curl", "-sS", "--max-time", String(timeout.components.seconds), "-H", "Host: \(hostHeader)",
                "-o", "-", "-w", "\(marker)%{http_code}", url,
            ],
            timeout: timeout + .seconds(5))
        let text = outcome.outputText
        guard outcome.succeeded, let range = text.range(of: marker, options: .backwards),
            let status = Int(text[range.upperBound...].trimmingCharacters(in: .whitespacesAndNewlines))
        else { throw CHOMError(.unavailable, "curl in \(name) got no answer from \(url): \(text.suffix(300))") }
        return TestHTTP.Reply(status: status, headers: [:], body: Data(text[..<range.lowerBound].utf8))
    }
}
