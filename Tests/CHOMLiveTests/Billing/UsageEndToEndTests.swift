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

/// Billing's meters end to end: a real agent over mTLS hosts a site on a real nginx, visitors
/// download it, and when the hour ends (the agent's clock moved on) its usage reaches the
/// organization's billing, counted once however often the agent sends it.
@Suite(
    "Usage metering end to end", .enabled(if: getuid() == 0 && TestNginx.binary != nil, "needs root (site users) and nginx"))
struct UsageEndToEndTests {
    @Test("bandwidth from the access log and site-hours reach usage_hourly and the owner's billing, once")
    func meteredOnce() async throws {
        // One clock for both, moved on by hand: the agent's hours end when the test says.
        let clock = ManualWallClock(Date())
        try await TestCoordinator.with(clock: clock, configure: { configuration in
            // An hour's jump is silence to the failure detector: not a failure to act on here.
            configuration.fleet.failoverEnabled = false
            configuration.auth.sessionTTLSeconds = 86_400
        }) { coordinator in
            try await TestNginx.with { nginx in
                try await TestAgent.with(coordinator: coordinator, name: "meter-vps", clock: clock, configure: { configuration in
                    nginx.host(&configuration)
                    configuration.usageInterval = .milliseconds(200)
                }) { agent in
                    try await coordinator.waitOnline([agent.agentID])
                    let site = try await coordinator.createSite(domain: "meter.test")
                    let body = String(repeating: "x", count: 1_000)
                    let deployed = try await coordinator.waitForTask(
                        try await coordinator.deploy(site: "meter.test", files: ["public/index.html": body]).id)
                    #expect(deployed.state == "succeeded", "\(deployed.message ?? "")")
                    try await nginx.waitForWorkers()
                    let check = HealthCheck(port: nginx.port, timeout: .seconds(5))
                    for index in 0..<5 { _ = try await check.get(host: "meter.test", path: "/?visit-\(index)") }
                    // nginx has logged the five visits (it writes the line after the answer), the meter
                    // has read them into this hour (a tick of our own, besides the agent's 200 ms
                    // timer, which may be starved under load), then the hour ends.
                    let usage = try #require(agent.runtime.usage)
                    let logs = try #require(agent.runtime.configuration.hosting?.logsDirectory)
                    let accessLog = logs.appendingPathComponent("meter.test/access.log")
                    try await coordinator.eventually("nginx logged the five visits") {
                        let text = (try? String(contentsOf: accessLog, encoding: .utf8)) ?? ""
                        return (0..<5).allSatisfy { text.contains("?visit-\($0) ") }
                    }
                    usage.tick()
                    clock.advance(by: 3_600)
                    let sql = "SELECT coalesce(sum(quantity), 0)::bigint FROM usage_hourly WHERE site_id = '\(site.id)' AND meter = "
                    try await coordinator.eventually("the closed hour's bandwidth is stored", timeout: .seconds(30)) {
                        try await TestDatabase.count(sql + "'bandwidth_bytes'", dataDirectory: coordinator.dataDirectory) > 0
                    }
                    let bandwidth = try await TestDatabase.count(sql + "'bandwidth_bytes'", dataDirectory: coordinator.dataDirectory)
                    // Five visits of the 1,000-byte page, plus whatever the deploy's health check fetched.
                    #expect(bandwidth >= 5_000 && bandwidth % 1_000 == 0, "\(bandwidth)")
                    #expect(try await TestDatabase.count(sql + "'site_hours'", dataDirectory: coordinator.dataDirectory) == 1)
                    // Acknowledged, the agent forgets them; sent again (a replay), nothing doubles.
                    try await coordinator.eventually("the agent's samples are acknowledged") { usage.pendingCount == 0 }
                    let rows = try await TestDatabase.count(
                        "SELECT count(*) FROM usage_hourly WHERE site_id = '\(site.id)'", dataDirectory: coordinator.dataDirectory)
                    clock.advance(by: 3_600)
                    try await coordinator.eventually("the next hour's samples are stored") {
                        try await TestDatabase.count(
                            "SELECT count(*) FROM usage_hourly WHERE site_id = '\(site.id)'", dataDirectory: coordinator.dataDirectory)
                            > rows
                    }
                    #expect(try await TestDatabase.count(sql + "'bandwidth_bytes'", dataDirectory: coordinator.dataDirectory)
                        == bandwidth, "no traffic in the second hour, and the first hour's bytes counted once")
                    #expect(try await TestDatabase.count(sql + "'site_hours'", dataDirectory: coordinator.dataDirectory) == 2)

                    // The owner's view: the organization's meters for its period.
                    let organization = try #require(try await coordinator.client.allOrganizations().first { $0.name == "tests" })
                    let billing = try await coordinator.client.billing(organizationID: organization.id)
                    #expect(billing.usage.sites == 1)
                    _ = billing
                }
            }
        }
    }
}
