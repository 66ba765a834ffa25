import AsyncHTTPClient
import CHOMCore
import CHOMStore
import Foundation
import NIOCore
import NIOHTTP1

/// The coordinator's own look at a site on an agent, before a migration switches to it: a GET of
/// the site's health check path (or `/`) at the agent's public address and HTTP port, with the
/// site's domain as Host. Passes on the expected status (or any 2xx/3xx when none is set).
struct SiteHealthProbe: Sendable {
    let client: HTTPClient

    /// nil when the site answered as expected, else why not.
    func check(_ site: SiteRecord, on agent: AgentRecord) async -> String? {
        guard let address = agent.publicAddresses.first else { return "the agent reported no public address" }
        let host = address.contains(":") ? "[\(address)]" : address
        let check = site.spec.healthCheck
        let path = check?.path ?? "/"
        var request = HTTPClientRequest(url: "http://\(host):\(agent.httpPort)\(path.hasPrefix("/") ? path : "/" + path)")
        request.headers.add(name: "Host", value: site.domain)
        request.headers.add(name: "User-Agent", value: "chom-coordinator migration probe")
        let timeout = TimeAmount.milliseconds(Int64(check?.timeoutMs ?? 5000))
        do {
            let response = try await client.execute(request, timeout: timeout)
            _ = try? await response.body.collect(upTo: 64 * 1024)
            let status = Int(response.status.code)
            if let expected = check?.expectedStatus {
                return status == expected ? nil : "\(path) answered \(status), expected \(expected)"
            }
            return (200..<400).contains(status) ? nil : "\(path) answered \(status)"
        } catch {
            return "\(path) did not answer: \(error)"
        }
    }
}
