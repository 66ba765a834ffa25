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

/// An agent stops for good: the failure detector declares it failed, and its site comes back on a
/// surviving agent from its latest verified backup, with the recovery point and time recorded.
@Suite(
    "Failover: a failed agent's sites are restored on a survivor",
    .enabled(if: getuid() == 0 && TestNginx.binary != nil, "needs root (site users) and nginx"))
struct FailoverLiveTests {
    @Test("a failed agent's site is restored on another agent from its latest verified backup, recorded and audited")
    func failover() async throws {
        let backups = try TemporaryDirectory.make(prefix: "chom-failover-backups")
        defer { TemporaryDirectory.remove(backups) }
        try await TestCoordinator.with(configure: { configuration in
            MigrationLiveTests.configure(backups)(&configuration)
            configuration.fleet.failoverEnabled = true
            configuration.agents.heartbeatTTLSeconds = 2
            configuration.agents.failureGraceSeconds = 2
        }) { coordinator in
            let client = coordinator.client
            try await TestNginx.with { nginxA in
                try await TestNginx.with { nginxB in
                    try await TestAgent.with(coordinator: coordinator, name: "vps-b", configure: { nginxB.host(&$0) }) { b in
                        try await coordinator.waitOnline([b.agentID])
                        // B takes no site until A's is placed and backed up.
                        _ = try await client.setScheduling(agent: b.agentID.description, "cordon")
                        let placed: (SiteResponse, String) = try await TestAgent.with(
                            coordinator: coordinator, name: "vps-a", configure: { nginxA.host(&$0) }
                        ) { a -> (SiteResponse, String) in
                            try await coordinator.waitOnline([a.agentID])
                            let site = try await coordinator.createSite(domain: "failing.test")
                            #expect(site.agentId == a.agentID.description)
                            // The organization hears of the failover through an email channel.
                            let organization = try #require(try await client.allOrganizations().first { $0.name == "tests" })
                            _ = try await client.createNotificationChannel(
                                organizationID: organization.id,
                                CreateNotificationChannelRequest(kind: "email", email: "ops@failing.test"))
                            // A second site with failover off: it stays, and A's fence would leave it served.
                            let kept = try await coordinator.createSite(domain: "kept.test")
                            let off = try await client.setFailover(site: kept.id, enabled: false)
                            #expect(!off.failoverEnabled)
                            let told = try await coordinator.waitForTask(try #require(off.taskId))
                            #expect(told.state == "succeeded", "\(told.message ?? "")")
                            #expect(try await client.setFailover(site: kept.id, enabled: false).taskId == nil)
                            let keptConfig = try String(
                                contentsOf: nginxA.sitesDirectory.appendingPathComponent("kept.test.conf"),
                                encoding: .utf8)
                            #expect(!keptConfig.contains("chom-fence.inc"), "\(keptConfig)")
                            let verified = try await Self.backUp(coordinator, content: "<h1>verified</h1>", verify: true)
                            // A newer backup no drill has verified: the failover prefers the verified one.
                            _ = try await Self.backUp(coordinator, content: "<h1>unverified</h1>", verify: false)
                            _ = try await client.setScheduling(agent: b.agentID.description, "uncordon")
                            // The plan, while A still runs: B, from the verified backup.
                            // Polled: one late heartbeat (TTL 2 s) makes A suspect for a moment.
                            var plan = try await client.failoverPlan(agent: a.agentID.description)
                            try await coordinator.eventually("A online in the plan") {
                                plan = try await client.failoverPlan(agent: a.agentID.description)
                                return plan.health == "online"
                            }
                            #expect(plan.failoverEnabled)
                            #expect(plan.sites.map(\.domain) == ["failing.test", "kept.test"])
                            let failing = try #require(plan.sites.first)
                            #expect(failing.failoverEnabled)
                            #expect(failing.toAgentId == b.agentID.description)
                            #expect(failing.backupId == verified && failing.backupVerified == true)
                            #expect(failing.problem == nil, "\(plan)")
                            #expect(plan.sites.last?.failoverEnabled == false)
                            #expect(plan.sites.last?.problem == "failover is off for the site", "\(plan)")
                            // An agent that announced no site lease would not fence itself: nothing of
                            // it fails over, and the plan says why (the capability back as A announced it).
                            #expect(try await TestDatabase.count(
                                "SELECT count(*)::int8 FROM agents WHERE id = '\(a.agentID)' AND 'site_lease_v1' = ANY(capabilities)",
                                dataDirectory: coordinator.dataDirectory) == 1)
                            try await TestDatabase.execute(
                                "UPDATE agents SET capabilities = array_remove(capabilities, 'site_lease_v1') WHERE id = '\(a.agentID)'",
                                dataDirectory: coordinator.dataDirectory)
                            let unfenced = try await client.failoverPlan(agent: a.agentID.description)
                            #expect(unfenced.sites.first?.problem?.hasPrefix("its agent does not fence itself") == true, "\(unfenced)")
                            try await TestDatabase.execute(
                                "UPDATE agents SET capabilities = array_append(capabilities, 'site_lease_v1') WHERE id = '\(a.agentID)'",
                                dataDirectory: coordinator.dataDirectory)
                            let servedConfig = try String(
                                contentsOf: nginxA.sitesDirectory.appendingPathComponent("failing.test.conf"),
                                encoding: .utf8)
                            #expect(servedConfig.contains("chom-fence.inc"), "\(servedConfig)")
                            return (site, verified)
                        }
                        // A is gone for good.
                        try await Self.checkFailedOver(
                            coordinator, site: placed.0, verified: placed.1, survivor: b.agentID, nginx: nginxB)
                    }
                }
            }
        }
    }

    static func checkFailedOver(
        _ coordinator: TestCoordinator, site: SiteResponse, verified: String, survivor: AgentID, nginx nginxB: TestNginx
    ) async throws {
        let client = coordinator.client
        try await coordinator.eventually("the failover to finish", timeout: .seconds(90)) {
            try await client.migrations(site: site.id).contains { $0.reason == "failover" && $0.finishedAt != nil }
        }
        let failover = try #require(try await client.migrations(site: site.id).first { $0.reason == "failover" })
        #expect(failover.state == "succeeded" && failover.step == "done", "\(failover)")
        #expect(failover.toAgentId == survivor.description)
        #expect(failover.backupId == verified)
        #expect(failover.backupVerified == true)
        let point = try #require(failover.recoveryPointSeconds)
        let time = try #require(failover.recoveryTimeSeconds)
        #expect(point > 0 && time > 0, "point \(point) s, time \(time) s")
        print("failover of a static site: recovery point \(point) s, recovery time \(time) s")

        let placed = try await client.site(site.id)
        #expect(placed.agentId == survivor.description && placed.state == "active", "\(placed)")
        try await nginxB.waitForWorkers()
        let served = try await HealthCheck(port: nginxB.port, timeout: .seconds(5)).get(host: "failing.test")
        #expect(served.body == "<h1>verified</h1>")

        let agent = try await client.agent(id: try #require(site.agentId))
        #expect(agent.health == "offline")
        // The site with failover off stays on the failed agent, said once in the audit log.
        let kept = try await client.site("kept.test")
        #expect(kept.agentId == site.agentId, "\(kept)")
        let impossible = try await client.allAuditEntries(AuditFilter(action: "site.failover.impossible"))
        #expect(impossible.filter { $0.target == "site:\(kept.id)" }.count == 1)
        #expect(impossible.first { $0.target == "site:\(kept.id)" }?.details["why"] == "failover is off for the site")
        for action in ["site.failover.start", "site.failover.switch", "site.failover.succeeded"] {
            let entries = try await client.allAuditEntries(AuditFilter(action: action))
            #expect(entries.filter { $0.target == "site:\(site.id)" }.count == 1, "\(action)")
        }
        // The organization is told once, with the recovery figures; the site with failover off is not.
        #expect(try await TestDatabase.count("""
            SELECT count(*) FROM notification_outbox WHERE event = 'failover.done' AND recipient = 'ops@failing.test'
              AND subject = '[CHOM] Failover done: failing.test' AND body LIKE '%restored from its latest backup%'
              AND body LIKE '%may be lost%'
            """, dataDirectory: coordinator.dataDirectory) == 1)
        #expect(try await TestDatabase.count(
            "SELECT count(*) FROM notification_outbox WHERE event = 'failover.done' AND subject LIKE '%kept.test%'",
            dataDirectory: coordinator.dataDirectory) == 0)
        // Counted after the finishing write that the migration's state shows.
        try await coordinator.eventually("the failover counted") {
            let metrics = coordinator.coordinator.metrics.exposition()
            return metrics.contains(#"chom_coordinator_failovers_total{outcome="succeeded"} 1"#)
                && metrics.contains("chom_coordinator_failover_recovery_time_seconds_count 1")
                && metrics.contains("chom_coordinator_failover_recovery_point_seconds_count 1")
        }
    }

    /// Deploys `content`, backs the site up (and verifies the backup with a drill); the backup's id.
    static func backUp(_ coordinator: TestCoordinator, content: String, verify: Bool) async throws -> String {
        let deployed = try await coordinator.waitForTask(
            try await coordinator.deploy(site: "failing.test", files: ["public/index.html": content]).id)
        #expect(deployed.state == "succeeded", "\(deployed.message ?? "")")
        let backup = try await coordinator.client.createBackup(site: "failing.test")
        let task = try await coordinator.waitForTask(try #require(backup.taskId), timeout: .seconds(60))
        #expect(task.state == "succeeded", "\(task.message ?? "")")
        if verify {
            let drill = try await coordinator.waitForTask(
                try await coordinator.client.verifyBackup(site: "failing.test", backup: backup.id).id, timeout: .seconds(60))
            #expect(drill.state == "succeeded", "\(drill.message ?? "")")
        }
        return backup.id
    }
}
