import CHOMAPI
import CHOMAgent
import CHOMCore
import CHOMCoordinator
import CHOMTesting
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `chom sites logs` end to end: the coordinator, a real agent over mTLS hosting the site on a real
/// nginx, the site's requests read back through the typed task.
@Suite(
    "Site logs end to end", .enabled(if: getuid() == 0 && TestNginx.binary != nil, "needs root (site users) and nginx"))
struct SiteLogsEndToEndTests {
    @Test("requests served by nginx come back through GET /v1/sites/{site}/logs; the error log too")
    func readThroughTheFleet() async throws {
        try await TestCoordinator.with { coordinator in
            try await TestNginx.with { nginx in
                try await TestAgent.with(coordinator: coordinator, name: "logs-vps", configure: nginx.host) { agent in
                    try await coordinator.waitOnline([agent.agentID])
                    _ = try await coordinator.createSite(domain: "tail.test")
                    let deployed = try await coordinator.waitForTask(
                        try await coordinator.deploy(site: "tail.test", files: ["public/index.html": "<h1>tail</h1>"]).id)
                    #expect(deployed.state == "succeeded", "\(deployed.message ?? "")")
                    let check = HealthCheck(port: nginx.port, timeout: .seconds(5))
                    try await nginx.waitForWorkers()
                    for index in 0..<4 { _ = try await check.get(host: "tail.test", path: "/?visit-\(index)") }
                    _ = try await check.get(host: "tail.test", path: "/.env")

                    var logs = SiteLogsResponse(kind: "access", lines: [], truncated: false)
                    let deadline = ContinuousClock.now + .seconds(20)
                    repeat {
                        logs = try await coordinator.client.siteLogs("tail.test", kind: "access", tail: 3)
                    } while logs.lines.last?.contains("/.env") != true && ContinuousClock.now < deadline
                    #expect(logs.kind == "access" && logs.lines.count == 3 && !logs.truncated, "\(logs.lines)")
                    #expect(logs.lines.first?.contains("?visit-2") == true, "\(logs.lines)")
                    #expect(logs.lines.last?.contains(" 403 ") == true, "\(logs.lines)")

                    let errors = try await coordinator.client.siteLogs("tail.test", kind: "error", tail: 20)
                    #expect(errors.lines.contains { $0.contains("access forbidden by rule") }, "\(errors.lines)")

                    let removed = try await coordinator.waitForTask(
                        try await coordinator.client.removeSite("tail.test", force: true).id)
                    #expect(removed.state == "succeeded", "\(removed.message ?? "")")
                }
            }
        }
    }
}
