import CHOMAudit
import CHOMCore
import CHOMStore
import CHOMTesting
import Foundation
import PostgresNIO
import Testing

/// The figures the coordinator's alerting gauges are made of, read from PostgreSQL.
@Suite("Alert gauges: agents' verdicts, the oldest unfinished task, each scheduled site's backup ages")
struct AlertGaugeQueriesTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)
    let reports = AgentReportTests()

    @Test("agents by verdict (a deleted one left out); the oldest task per unfinished state")
    func agentsAndTasks() async throws {
        try await ThrowawayPostgres.withStore { store in
            let healthy = try await reports.addAgent(store)
            let failed = try await reports.addAgent(store)
            let deleted = try await reports.addAgent(store)
            try await store.client.query("UPDATE agents SET health = 'offline', name = 'web-2' WHERE id = \(failed.uuid)")
            try await store.client.query("UPDATE agents SET state = 'deleted' WHERE id = \(deleted.uuid)")
            let agents = try await store.alertGauges.agentHealth()
            #expect(Set(agents.map(\.agentID)) == [healthy, failed])
            #expect(agents.first { $0.agentID == failed }?.health == "offline")
            #expect(agents.first { $0.agentID == failed }?.name == "web-2")
            #expect(agents.first { $0.agentID == healthy }?.health == "online")

            #expect(try await store.alertGauges.oldestTaskAges(now: now).isEmpty)
            for (state, age) in [("queued", 7200.0), ("queued", 60), ("sent", 300), ("succeeded", 99_999), ("failed", 99_999)] {
                try await store.client.query("""
                    INSERT INTO tasks (id, agent_id, kind, payload, state, max_attempts, created_at, updated_at)
                    VALUES (\(UUID()), \(healthy.uuid), 'ping', '\\x01'::bytea, \(state), 1,
                        \(now.addingTimeInterval(-age)), \(now))
                    """)
            }
            let ages = try await store.alertGauges.oldestTaskAges(now: now)
            #expect(ages == [.queued: 7200, .sent: 300], "finished tasks are not waiting: \(ages)")
        }
    }

    @Test("backup age from the newest regular success or a later schedule change; verification age; removed sites and stale copies left out")
    func siteBackups() async throws {
        try await ThrowawayPostgres.withStore { store in
            let agent = try await reports.addAgent(store)
            let tenant = try await reports.makeTenant(store)
            func site(_ domain: String, state: String = "active", scheduleSetAgo: Double, everyHours: Int = 24) async throws -> UUID {
                let id = UUID()
                try await store.client.query("""
                    INSERT INTO sites (id, tenant_id, domain, agent_id, state, created_at, updated_at)
                    VALUES (\(id), \(tenant.uuid), \(domain), \(agent.uuid), \(state), \(now), \(now))
                    """)
                try await store.client.query("""
                    INSERT INTO backup_schedules (site_id, every_hours, keep_last, keep_daily, keep_weekly, keep_monthly,
                        next_run_at, updated_at)
                    VALUES (\(id), \(everyHours), 1, 0, 0, 0, \(now), \(now.addingTimeInterval(-scheduleSetAgo)))
                    """)
                return id
            }
            func backup(_ site: UUID, state: String = "succeeded", finishedAgo: Double, verifiedAgo: Double? = nil,
                        purpose: String = "regular", deleted: Bool = false) async throws {
                try await store.client.query("""
                    INSERT INTO backups (id, site_id, tenant_id, state, created_at, finished_at, verified_at, purpose, deleted_at)
                    VALUES (\(UUID()), \(site), \(tenant.uuid), \(state), \(now.addingTimeInterval(-finishedAgo - 60)),
                        \(now.addingTimeInterval(-finishedAgo)), \(verifiedAgo.map { now.addingTimeInterval(-$0) }),
                        \(purpose), \(deleted ? now : nil))
                    """)
            }
            let shop = try await site("shop.test", scheduleSetAgo: 30 * 86_400)
            try await backup(shop, finishedAgo: 10 * 86_400, verifiedAgo: 9 * 86_400)
            try await backup(shop, finishedAgo: 40 * 3600)
            try await backup(shop, state: "failed", finishedAgo: 3600)
            try await backup(shop, finishedAgo: 60, purpose: "stale_copy")
            try await backup(shop, finishedAgo: 120, deleted: true)
            // Changed an hour ago, last backed up two days ago: the clock restarted an hour ago.
            let blog = try await site("blog.test", scheduleSetAgo: 3600, everyHours: 6)
            try await backup(blog, finishedAgo: 2 * 86_400)
            // Never backed up: the clock runs from when the schedule was set; nothing to verify yet.
            _ = try await site("new.test", scheduleSetAgo: 7200)
            _ = try await site("gone.test", state: "removed", scheduleSetAgo: 90 * 86_400)

            let sites = try await store.alertGauges.siteBackups(now: now)
            #expect(sites.map(\.domain) == ["blog.test", "new.test", "shop.test"])
            let byDomain = Dictionary(uniqueKeysWithValues: sites.map { ($0.domain, $0) })
            #expect(byDomain["shop.test"]?.ageSeconds == 144_000.0)
            #expect(byDomain["shop.test"]?.intervalSeconds == 86_400)
            #expect(byDomain["shop.test"]?.verificationAgeSeconds == 777_600.0)
            #expect(byDomain["shop.test"]?.tenantID == tenant)
            #expect(byDomain["blog.test"]?.ageSeconds == 3600)
            #expect(byDomain["blog.test"]?.intervalSeconds == 21_600.0)
            #expect(byDomain["blog.test"]?.verificationAgeSeconds == 172_800.0, "never verified: from its first backup")
            #expect(byDomain["new.test"]?.ageSeconds == 7200)
            #expect(byDomain["new.test"]?.verificationAgeSeconds == nil)
        }
    }
}
