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

/// A site moved from agent A to agent B end to end: a coordinator and two agents over mTLS, each
/// on its own real nginx, backups in a directory both share. While it moves, a client that still
/// reaches A (its DNS not expired yet) fetches the site every 20 ms and must never fail.
@Suite(
    "Migration: a site moves from one agent to another",
    .enabled(if: getuid() == 0 && TestNginx.binary != nil, "needs root (site users) and nginx"))
struct MigrationLiveTests {
    static let proxySeconds = 3.0

    static func configure(_ backups: URL) -> (inout CoordinatorConfiguration) -> Void {
        { configuration in
            configuration.backups.destination.path = backups.path
            configuration.fleet.sharedBackupDirectory = true
            configuration.fleet.proxySeconds = Self.proxySeconds
            configuration.fleet.tickSeconds = 0.2
            configuration.fleet.healthTimeoutSeconds = 10
        }
    }

    @Test("a static site moves with no failed request on the old agent; the old copy goes; refusals are clear")
    func staticSiteMoves() async throws {
        let backups = try TemporaryDirectory.make(prefix: "chom-migration-backups")
        defer { TemporaryDirectory.remove(backups) }
        try await TestCoordinator.with(configure: Self.configure(backups)) { coordinator in
            try await TestNginx.with { nginxA in
                try await TestNginx.with { nginxB in
                    try await TestAgent.with(coordinator: coordinator, name: "vps-a", configure: { nginxA.host(&$0) }) { a in
                        try await coordinator.waitOnline([a.agentID])
                        let site = try await coordinator.createSite(domain: "moving.test")
                        #expect(site.agentId == a.agentID.description)
                        // An email channel of the site's organization is told when the move ends.
                        let organization = try #require(try await coordinator.client.allOrganizations().first { $0.name == "tests" })
                        _ = try await coordinator.client.createNotificationChannel(
                            organizationID: organization.id,
                            CreateNotificationChannelRequest(kind: "email", email: "ops@moving.test", events: ["migration.done"]))
                        let deployed = try await coordinator.waitForTask(try await coordinator.deploy(
                            site: "moving.test", files: ["public/index.html": "<h1>moving</h1>"]).id)
                        #expect(deployed.state == "succeeded", "\(deployed.message ?? "")")
                        try await TestAgent.with(coordinator: coordinator, name: "vps-b", configure: { nginxB.host(&$0) }) { b in
                            try await coordinator.waitOnline([b.agentID])
                            try await move(coordinator, site: site, a: a, b: b, nginxA: nginxA, nginxB: nginxB)
                        }
                    }
                }
            }
        }
    }

    private func move(
        _ coordinator: TestCoordinator, site: SiteResponse, a: TestAgent, b: TestAgent, nginxA: TestNginx,
        nginxB: TestNginx
    ) async throws {
        let client = coordinator.client
        // Refused up front: its own agent, an agent id that names nobody.
        await #expect(throws: AdminClientError.self) { try await client.moveSite(site.id, to: a.agentID.description) }
        await #expect(throws: AdminClientError.self) { try await client.moveSite(site.id, to: AgentID().description) }

        let probe = HealthCheck(port: nginxA.port, timeout: .seconds(2))
        #expect(try await probe.get(host: "moving.test").body == "<h1>moving</h1>")
        let started = try await client.moveSite(site.id, to: b.agentID.description)
        #expect(started.fromAgentId == a.agentID.description && started.toAgentId == b.agentID.description)
        // A second move while this one runs is refused.
        await #expect(throws: AdminClientError.self) { try await client.moveSite(site.id, to: b.agentID.description) }
        // The site is migrating: it takes no deploy until the move ends (the copy on B would miss it).
        #expect(try await client.site(site.id).state == "migrating")
        await #expect(throws: AdminClientError.self) {
            try await coordinator.deploy(site: "moving.test", files: ["public/index.html": "late"])
        }

        // Clients whose DNS still says A: every 20 ms until A removes its copy (DNS has expired by then).
        var requests = 0
        var failures: [String] = []
        var steps: [String] = []
        while true {
            let migration = try await client.migration(id: started.id)
            if steps.last != migration.step { steps.append(migration.step) }
            if migration.finishedAt != nil || migration.step == "cleanup" { break }
            requests += 1
            do {
                let response = try await probe.get(host: "moving.test")
                if response.body != "<h1>moving</h1>" { failures.append("body \(response.body.prefix(80))") }
            } catch {
                failures.append("\(error)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        print("migration of a static site: \(requests) requests to the old agent during the move, \(failures.count) failed; steps \(steps.joined(separator: " → "))")
        #expect(failures.isEmpty, "\(failures.prefix(5))")
        #expect(requests > 10, "too few requests during the move to say anything")

        try await coordinator.eventually("the migration finished", timeout: .seconds(60)) {
            try await client.migration(id: started.id).finishedAt != nil
        }
        let done = try await client.migration(id: started.id)
        #expect(done.state == "succeeded" && done.step == "done", "\(done)")
        #expect(done.switchedAt != nil && done.maintenanceSeconds == nil)
        let moved = try await client.site(site.id)
        #expect(moved.agentId == b.agentID.description && moved.state == "active", "\(moved)")
        #expect(moved.currentReleaseId != nil)
        try await nginxB.waitForWorkers()
        #expect(try await HealthCheck(port: nginxB.port, timeout: .seconds(5)).get(host: "moving.test").body == "<h1>moving</h1>")
        #expect(!FileManager.default.fileExists(atPath: a.sitesRoot.appendingPathComponent("moving.test").path))
        #expect(!FileManager.default.fileExists(atPath: nginxA.sitesDirectory.appendingPathComponent("moving.test.conf").path))
        // The last entry joins the chain right after the commit that the migration's state shows.
        try await coordinator.eventually("the migration's three entries chained") {
            try await TestDatabase.count(
                "SELECT count(*) FROM audit_entries WHERE action IN ('site.migration.start', 'site.migration.switch', 'site.migration.succeeded') AND target = 'site:\(site.id)'",
                dataDirectory: coordinator.dataDirectory) == 3
        }
        #expect(try await TestDatabase.count("""
            SELECT count(*) FROM notification_outbox WHERE event = 'migration.done' AND recipient = 'ops@moving.test'
              AND subject = '[CHOM] Migration done: moving.test' AND body LIKE '%was moved to another server%'
            """, dataDirectory: coordinator.dataDirectory) == 1)
        // The agent list shows where sites are. (A second move of the moved site is in
        // FleetHarnessTests: agents in one process share /etc/passwd, so B's site user is A's.)
        let agents = try await client.agents()
        #expect(agents.first { $0.id == b.agentID.description }?.sites == 1)
        #expect(agents.first { $0.id == a.agentID.description }?.sites == 0)
    }
}
