import CHOMAudit
import CHOMCore
import CHOMStore
import CHOMTesting
import Foundation
import PostgresNIO
import Testing

@Suite("Agent reports: each (agent, stream, sequence) applied once; placement times and config versions")
struct AgentReportTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    @Test("the verdict: a new row newer than all is fresh, a known one a duplicate, an older one stale", arguments: [
        (Int64(5), true, Int64?.none, AgentReportRepository.Admission.fresh),
        (5, true, 4, .fresh),
        (5, false, 5, .duplicate),
        (5, false, 9, .duplicate),
        (5, true, 9, .stale),
    ])
    func admission(sequence: Int64, inserted: Bool, newest: Int64?, expected: AgentReportRepository.Admission) {
        #expect(AgentReportRepository.admission(sequence: sequence, inserted: inserted, newest: newest) == expected)
    }

    @Test("a replayed sequence is a duplicate, an older one stale; inventories keep their newest row only")
    func admitAgainstPostgres() async throws {
        try await ThrowawayPostgres.withStore { store in
            let agent = try await addAgent(store)
            let other = try await addAgent(store)
            let reports = AgentReportRepository(client: store.client, logger: store.logger)
            func admit(_ sequence: UInt64, agent: AgentID = agent, stream: String = "inventory", newestOnly: Bool = true)
                async throws -> AgentReportRepository.Admission
            {
                try await reports.admit(agent: agent, stream: stream, sequence: sequence, keepNewestOnly: newestOnly, now: now)
            }
            #expect(try await admit(10) == .fresh)
            #expect(try await admit(10) == .duplicate)
            #expect(try await admit(12) == .fresh)
            #expect(try await admit(11) == .stale)
            #expect(try await admit(12) == .duplicate)
            // Another agent and another stream count apart.
            #expect(try await admit(10, agent: other) == .fresh)
            #expect(try await admit(3, stream: "usage", newestOnly: false) == .fresh)
            #expect(try await admit(4, stream: "usage", newestOnly: false) == .fresh)
            #expect(try await admit(3, stream: "usage", newestOnly: false) == .duplicate)
            // Sequences beyond Int64 are clamped, not refused.
            #expect(try await admit(UInt64.max) == .fresh)
            let rows = try await count(store, """
                SELECT count(*) FROM agent_reports WHERE agent_id = '\(agent)' AND stream = 'inventory'
                """)
            #expect(rows == 1)
            #expect(try await count(store, "SELECT count(*) FROM agent_reports WHERE stream = 'usage'") == 2)
        }
    }

    @Test("inventories admitted at once: the newest row stays, and every older admitted one is superseded")
    func concurrentAdmissions() async throws {
        try await ThrowawayPostgres.withStore { store in
            let agent = try await addAgent(store)
            let reports = AgentReportRepository(client: store.client, logger: store.logger)
            let sequences = Array(UInt64(1)...40).shuffled()
            let fresh = try await withThrowingTaskGroup(of: (UInt64, AgentReportRepository.Admission).self) { group in
                for sequence in sequences {
                    group.addTask {
                        (sequence, try await reports.admit(
                            agent: agent, stream: "inventory", sequence: sequence, keepNewestOnly: true, now: now))
                    }
                }
                var fresh: [UInt64] = []
                for try await (sequence, admission) in group where admission == .fresh { fresh.append(sequence) }
                return fresh
            }
            #expect(fresh.contains(40))
            #expect(try await count(store, """
                SELECT max(sequence) FROM agent_reports WHERE agent_id = '\(agent)' AND stream = 'inventory'
                """) == 40)
            let newest = try await store.client.withConnection { connection in
                try await reports.superseded(agent: agent, stream: "inventory", sequence: 40, on: connection)
            }
            #expect(!newest)
            for sequence in fresh where sequence < 40 {
                let older = try await store.client.withConnection { connection in
                    try await reports.superseded(agent: agent, stream: "inventory", sequence: sequence, on: connection)
                }
                #expect(older, "sequence \(sequence) was admitted, and 40 after it")
            }
            // Stale rows stay until the next fresh report, which keeps only itself.
            #expect(try await reports.admit(agent: agent, stream: "inventory", sequence: 41, keepNewestOnly: true, now: now) == .fresh)
            #expect(try await count(store, "SELECT count(*) FROM agent_reports WHERE agent_id = '\(agent)' AND stream = 'inventory'") == 1)
        }
    }

    @Test("placed_at follows agent_id whoever moves the site; config_version rises with configure")
    func placementAndVersion() async throws {
        try await ThrowawayPostgres.withStore { store in
            let first = try await addAgent(store)
            let second = try await addAgent(store)
            let tenant = try await makeTenant(store)
            let site = SiteID()
            // An hour ago by the real clock: the trigger stamps a move with the database's clock.
            let created = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 - 3600).rounded(.down))
            try await store.client.query("""
                INSERT INTO sites (id, tenant_id, domain, agent_id, state, created_at, updated_at)
                VALUES (\(site.uuid), \(tenant.uuid), 'placed.test', \(first.uuid), 'active', \(created), \(created))
                """)
            #expect(try await placedAt(store, site) == created)
            try await store.client.query("UPDATE sites SET state = 'deploying' WHERE id = \(site.uuid)")
            #expect(try await placedAt(store, site) == created)
            try await store.client.query("UPDATE sites SET agent_id = \(second.uuid) WHERE id = \(site.uuid)")
            let moved = try #require(try await placedAt(store, site))
            #expect(moved > created && abs(moved.timeIntervalSinceNow) < 60)
            // A writer that sets placed_at itself keeps its value.
            try await store.client.query(
                "UPDATE sites SET agent_id = \(first.uuid), placed_at = \(now) WHERE id = \(site.uuid)")
            #expect(try await placedAt(store, site) == now)

            let sites = store.sites(in: .fleet)
            let record = try #require(try await sites.get(site))
            #expect(record.configVersion == 1)
            let task = NewTask(
                id: TaskID(), agentID: first, siteID: site, releaseID: nil, kind: .configure, payload: [1],
                maxAttempts: 1)
            try await store.write(now: now) { transaction in
                try await sites.configure(record, spec: SiteSettings(), tls: .keep, task: task, now: now, in: transaction)
                try await transaction.record(AuditEntry(time: now, actor: "test", action: "site.configure", target: "t"))
            }
            #expect(try await sites.get(site)?.configVersion == 2)
        }
    }

    func addAgent(_ store: Store) async throws -> AgentID {
        let id = AgentID()
        try await store.client.query("""
            INSERT INTO agents (id, name, certificate_serial, certificate_not_after, agent_version, host_facts, enrolled_at)
            VALUES (\(id.uuid), 'a', '01', \(now.addingTimeInterval(3600)), 't', '{}'::jsonb, \(now))
            """)
        return id
    }

    func makeTenant(_ store: Store) async throws -> TenantID {
        try await store.write(now: now) { transaction in
            let organization = try await store.organizations.create(
                id: OrganizationID(), name: "org", now: now, in: transaction)
            let tenant = try await store.organizations.createTenant(
                id: TenantID(), organization: organization.id, name: "default", now: now, in: transaction)
            try await transaction.record(AuditEntry(time: now, actor: "test", action: "tenant.create", target: "t"))
            return tenant.id
        }
    }

    func placedAt(_ store: Store, _ site: SiteID) async throws -> Date? {
        for try await date in try await store.client.query("SELECT placed_at FROM sites WHERE id = \(site.uuid)")
            .decode(Date.self)
        {
            return date
        }
        return nil
    }

    func count(_ store: Store, _ sql: String) async throws -> Int {
        for try await value in try await store.client.query(PostgresQuery(unsafeSQL: sql)).decode(Int.self) { return value }
        return 0
    }
}
