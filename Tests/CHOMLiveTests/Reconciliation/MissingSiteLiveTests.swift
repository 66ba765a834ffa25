import CHOMAPI
import CHOMAgent
import CHOMCore
import CHOMTesting
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Reconciliation end to end, the other direction: a site placed on an agent that lost its tree is
/// configured and deployed again from the agent's next inventory.
@Suite(
    "Reconciliation: a site missing from its agent comes back",
    .enabled(if: getuid() == 0 && TestNginx.binary != nil, "needs root (site users) and nginx"))
struct MissingSiteLiveTests {
    @Test("an agent that lost a site's tree and record gets a configure and a deploy of the live release, audited")
    func missingSiteRedeployed() async throws {
        try await TestCoordinator.with { coordinator in
            try await TestNginx.with { nginx in
                try await TestAgent.with(coordinator: coordinator, name: "vps-lost", configure: {
                    nginx.host(&$0)
                    $0.inventoryInterval = .seconds(1)
                }) { agent in
                    try await coordinator.waitOnline([agent.agentID])
                    _ = try await coordinator.createSite(domain: "lost.test")
                    let deployed = try await coordinator.waitForTask(
                        try await coordinator.deploy(site: "lost.test", files: ["public/index.html": "<h1>back</h1>"]).id)
                    #expect(deployed.state == "succeeded", "\(deployed.message ?? "")")
                    let releaseID = try #require(deployed.releaseId)
                    func count(_ sql: String) async throws -> Int {
                        try await TestDatabase.count(sql, dataDirectory: coordinator.dataDirectory)
                    }
                    // Two more inventories of the agent were applied (their sequences recorded).
                    func waitForInventories() async throws {
                        for _ in 0..<2 {
                            let seen = try await count("SELECT coalesce(max(sequence), 0) FROM agent_reports")
                            try await coordinator.eventually("the next inventory") {
                                try await count("SELECT coalesce(max(sequence), 0) FROM agent_reports") > seen
                            }
                        }
                    }
                    // In sync: its inventories queue nothing.
                    try await waitForInventories()
                    #expect(try await count("SELECT count(*) FROM audit_entries WHERE action = 'agent.reconcile'") == 0)

                    // The tree and the agent's record of it are lost (a disk replaced, a bad restore).
                    try FileManager.default.removeItem(at: agent.sitesRoot.appendingPathComponent("lost.test"))
                    try FileManager.default.removeItem(at: agent.runtime.configuration.siteRecordsDirectory)
                    let current = agent.sitesRoot.appendingPathComponent("lost.test/current/public/index.html")
                    try await coordinator.eventually("the site back on its agent", timeout: .seconds(30)) {
                        (try? String(contentsOf: current, encoding: .utf8)) == "<h1>back</h1>"
                    }
                    try await coordinator.eventually("the repair finished") {
                        try await count("""
                            SELECT count(*) FROM tasks WHERE state IN ('queued', 'sent', 'accepted')
                            """) == 0
                    }
                    #expect(try await count("SELECT count(*) FROM tasks WHERE kind = 'configure' AND state = 'succeeded'") == 1)
                    #expect(try await count("""
                        SELECT count(*) FROM tasks WHERE kind = 'deploy' AND state = 'succeeded' AND release_id = '\(releaseID)'
                        """) == 2)
                    #expect(try await count("""
                        SELECT count(*) FROM audit_entries WHERE action = 'agent.reconcile'
                          AND (details::jsonb)->>'configure' = '1' AND (details::jsonb)->>'deploy' = '1'
                        """) == 1)
                    let site = try await coordinator.client.site("lost.test")
                    #expect(site.state == "active" && site.currentReleaseId == releaseID)
                    try await nginx.waitForWorkers()
                    #expect(try await HealthCheck(port: nginx.port, timeout: .seconds(5)).get(host: "lost.test").body == "<h1>back</h1>")
                    // Back in sync: later inventories queue nothing more.
                    try await waitForInventories()
                    #expect(try await count("SELECT count(*) FROM audit_entries WHERE action = 'agent.reconcile'") == 1)
                }
            }
        }
    }
}
