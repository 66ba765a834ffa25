import CHOMAudit
import CHOMCore
import CHOMStore
import CHOMTesting
import Foundation
import PostgresNIO
import Testing

/// The store's side of the site lifecycle: requests stored with their task in one transaction (or
/// refused with nothing written), and task results turned into events by `TaskResultRecorder`.
@Suite("Site state changes in the store go through SiteLifecycle")
struct SiteLifecycleStoreTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    /// An organization, a tenant, two agents and a site named `life.test` on the first.
    func seed(_ client: PostgresClient) async throws -> (site: SiteID, agent: AgentID, other: AgentID) {
        let organization = UUID(), tenant = UUID(), agent = UUID(), other = UUID(), site = UUID()
        try await client.query(
            "INSERT INTO organizations (id, name, created_at, updated_at) VALUES (\(organization), 'Acme', \(now), \(now))")
        try await client.query(
            "INSERT INTO tenants (id, organization_id, name, created_at) VALUES (\(tenant), \(organization), 'prod', \(now))")
        for (id, name) in [(agent, "a"), (other, "b")] {
            try await client.query("""
                INSERT INTO agents (id, name, certificate_serial, certificate_not_after, enrolled_at)
                VALUES (\(id), \(name), \(name), \(now), \(now))
                """)
        }
        try await client.query("""
            INSERT INTO sites (id, tenant_id, domain, agent_id, state, created_at, updated_at)
            VALUES (\(site), \(tenant), 'life.test', \(agent), 'created', \(now), \(now))
            """)
        try await client.query("INSERT INTO site_names (name, site_id) VALUES ('life.test', \(site))")
        return (SiteID(site), AgentID(agent), AgentID(other))
    }

    func task(_ kind: TaskKindName, _ site: SiteID, on agent: AgentID, suspended: Bool? = nil) -> NewTask {
        NewTask(
            id: TaskID(), agentID: agent, siteID: site, releaseID: nil, kind: kind, payload: [1], maxAttempts: 3,
            suspended: suspended)
    }

    /// `task` queued through the lifecycle with `event`, in an audited transaction.
    @discardableResult
    func request(_ store: Store, _ task: NewTask, _ event: SiteEvent?) async throws -> [SiteAction] {
        let sites = store.sites(in: .fleet)
        let id = try #require(task.siteID)
        let site = try #require(try await sites.get(id))
        return try await store.write(now: now) { transaction in
            let actions = try await sites.enqueue(task, for: site, event: event, now: now, in: transaction)
            try await transaction.record(AuditEntry(time: now, actor: "system", action: "test", target: "site:\(site.id)"))
            return actions
        }
    }

    func finish(_ store: Store, _ task: NewTask, _ report: TaskReport) async throws {
        let finished = try await store.tasks.finish(task.id, agent: task.agentID, report: report, now: now) { _, _, _ in
            AuditEntry(time: now, actor: "system", action: "task.finished", target: "task")
        }
        #expect(finished != nil, "the task was open")
    }

    func site(_ store: Store, _ id: SiteID) async throws -> SiteRecord {
        try #require(try await store.sites(in: .fleet).get(id))
    }

    @Test("a request's state is stored with its task; a refused or mismatched one writes and queues nothing")
    func requests() async throws {
        try await ThrowawayPostgres.withStore { store in
            let (id, agent, _) = try await seed(store.client)
            let actions = try await request(store, task(.deploy, id, on: agent), .deployRequested)
            #expect(actions == [.enqueue(.deploy), .audit("site.deploy"), .wakeAgent])
            #expect(try await site(store, id).state == .deploying)

            try await request(store, task(.suspend, id, on: agent, suspended: true), .suspendRequested(.billing))
            var stored = try await site(store, id)
            #expect(stored.suspensionReasons == [.billing] && !stored.suspended, "the reason at once, the flag once applied")

            // Resuming billing asks for "served": a task built for "suspended" is stale.
            let stale = await #expect(throws: CHOMError.self) {
                try await request(store, task(.suspend, id, on: agent, suspended: true), .resumeRequested(.billing))
            }
            #expect(stale?.code == .conflict && stale?.message == "site life.test changed meanwhile; try again")
            #expect(try await site(store, id).suspensionReasons == [.billing], "rolled back")

            try await store.client.query("UPDATE sites SET state = 'migrating' WHERE id = \(id.uuid)")
            let queued = try await TestCounts.tasks(store.client, site: id)
            let refused = await #expect(throws: CHOMError.self) {
                try await request(store, task(.deploy, id, on: agent), .deployRequested)
            }
            #expect(refused?.code == .conflict)
            #expect(refused?.message == "life.test: site is migrating; it takes no deploy until the migration ends")
            #expect(try await TestCounts.tasks(store.client, site: id) == queued)
            stored = try await site(store, id)
            #expect(stored.state == .migrating)
        }
    }

    @Test("a configure built from a record read before another configure or a move is refused, and writes and queues nothing")
    func staleConfigure() async throws {
        try await ThrowawayPostgres.withStore { store in
            let (id, _, other) = try await seed(store.client)
            let sites = store.sites(in: .fleet)
            func configure(_ read: SiteRecord, aliases: [String]) async throws {
                var spec = read.spec
                spec.aliases = aliases
                try await store.write(now: now) { transaction in
                    try await sites.configure(
                        read, spec: spec, tls: .keep, task: task(.configure, id, on: try #require(read.agentID)), now: now,
                        in: transaction)
                    try await transaction.record(AuditEntry(time: now, actor: "system", action: "test", target: "site:\(id)"))
                }
            }
            let first = try await site(store, id)
            let second = first
            try await configure(first, aliases: ["www.life.test"])
            let queued = try await TestCounts.tasks(store.client, site: id)
            // Read before the first one committed: it would put back the aliases the first removed.
            let stale = await #expect(throws: CHOMError.self) { try await configure(second, aliases: []) }
            #expect(stale?.code == .conflict && stale?.message == "site life.test changed meanwhile; try again")
            var stored = try await site(store, id)
            #expect(stored.spec.aliases == ["www.life.test"] && stored.configVersion == first.configVersion + 1)
            #expect(try await TestCounts.tasks(store.client, site: id) == queued)

            // Moved to another agent since it was read: the task would go to the agent that let it go.
            let beforeMove = stored
            try await store.client.query("UPDATE sites SET agent_id = \(other.uuid) WHERE id = \(id.uuid)")
            let moved = await #expect(throws: CHOMError.self) { try await configure(beforeMove, aliases: ["x.life.test"]) }
            #expect(moved?.code == .conflict)
            stored = try await site(store, id)
            #expect(stored.spec.aliases == ["www.life.test"] && stored.agentID == other)
            #expect(try await TestCounts.tasks(store.client, site: id) == queued)
        }
    }

    @Test("a task built from a record read before a move or another configure is refused, with nothing queued; the record as stored passes")
    func staleTaskRecord() async throws {
        try await ThrowawayPostgres.withStore { store in
            let (id, agent, other) = try await seed(store.client)
            let sites = store.sites(in: .fleet)
            /// What a route does: the check, then the task, in one audited transaction.
            func queue(_ read: SiteRecord, _ task: NewTask, _ event: SiteEvent?) async throws {
                try await store.write(now: now) { transaction in
                    try await sites.requireUnchanged(read, in: transaction)
                    try await sites.enqueue(task, for: read, event: event, now: now, in: transaction)
                    try await transaction.record(AuditEntry(time: now, actor: "system", action: "test", target: "site:\(id)"))
                }
            }
            let read = try await site(store, id)
            try await queue(read, task(.suspend, id, on: agent, suspended: true), .suspendRequested(.manual))
            var queued = try await TestCounts.tasks(store.client, site: id)
            #expect(queued == 1, "as stored: queued")

            // Moved since it was read (a migration's switch): a backup or a suspension would go to the agent that let it go.
            let beforeMove = try await site(store, id)
            try await store.client.query("UPDATE sites SET agent_id = \(other.uuid) WHERE id = \(id.uuid)")
            let moved = await #expect(throws: CHOMError.self) {
                try await queue(beforeMove, task(.suspend, id, on: agent, suspended: false), .resumeRequested(.manual))
            }
            #expect(moved?.code == .conflict && moved?.message == "site life.test changed meanwhile; try again")
            var stored = try await site(store, id)
            #expect(stored.suspensionReasons == [.manual], "the resume rolled back")
            #expect(try await TestCounts.tasks(store.client, site: id) == queued)

            // Reconfigured since it was read: a deploy would carry the old configuration.
            let beforeConfigure = stored
            try await store.client.query("UPDATE sites SET config_version = config_version + 1 WHERE id = \(id.uuid)")
            let reconfigured = await #expect(throws: CHOMError.self) {
                try await queue(beforeConfigure, task(.backup, id, on: other), nil)
            }
            #expect(reconfigured?.code == .conflict)
            #expect(try await TestCounts.tasks(store.client, site: id) == queued)

            // Suspended (or resumed) since it was read: every task carries the site's suspension, so a
            // deploy built before would lift it on the agent.
            stored = try await site(store, id)
            try await store.client.query(
                "UPDATE sites SET suspension_reasons = '{manual,billing}' WHERE id = \(id.uuid)")
            let suspended = await #expect(throws: CHOMError.self) {
                try await queue(stored, task(.backup, id, on: other), nil)
            }
            #expect(suspended?.code == .conflict)
            #expect(try await TestCounts.tasks(store.client, site: id) == queued)

            // Read again: it passes.
            stored = try await site(store, id)
            try await queue(stored, task(.backup, id, on: other), nil)
            queued += 1
            #expect(try await TestCounts.tasks(store.client, site: id) == queued)

            // Another tenant's scope never learns whether the site changed: not found.
            let foreign = store.sites(in: TenantScope(tenants: [TenantID()]))
            let hidden = await #expect(throws: CHOMError.self) {
                try await store.write(now: now) { transaction in
                    try await foreign.requireUnchanged(stored, in: transaction)
                    try await transaction.record(AuditEntry(time: now, actor: "system", action: "test", target: "site:\(id)"))
                }
            }
            #expect(hidden?.code == .notFound)
        }
    }

    @Test("results become events: live on the reported release, suspended as applied, nothing from another agent, removed")
    func results() async throws {
        try await ThrowawayPostgres.withStore { store in
            let (id, agent, other) = try await seed(store.client)
            let release = ReleaseID()
            let deploy = task(.deploy, id, on: agent)
            try await request(store, deploy, .deployRequested)
            try await finish(store, deploy, TaskReport(succeeded: true, message: "ok", releasePath: "/r/1", releaseID: release))
            var stored = try await site(store, id)
            #expect(stored.state == .active && stored.currentReleaseID == release && stored.currentReleasePath == "/r/1")

            let suspend = task(.suspend, id, on: agent, suspended: true)
            try await request(store, suspend, .suspendRequested(.manual))
            try await finish(store, suspend, TaskReport(succeeded: true, message: "ok"))
            #expect(try await site(store, id).suspended)

            // The site moved to the other agent: a configure failing on the old one is about its copy.
            let configure = task(.configure, id, on: agent)
            try await request(store, configure, nil)
            try await store.client.query("UPDATE sites SET agent_id = \(other.uuid) WHERE id = \(id.uuid)")
            try await finish(store, configure, TaskReport(succeeded: false, message: "nginx -t failed"))
            #expect(try await site(store, id).state == .active)

            let failing = task(.configure, id, on: other)
            try await request(store, failing, .configureRequested)
            try await finish(store, failing, TaskReport(succeeded: false, message: "nginx -t failed"))
            #expect(try await site(store, id).state == .configFailed)

            let remove = task(.remove, id, on: other)
            try await request(store, remove, .removeRequested)
            #expect(try await site(store, id).state == .removing)
            try await finish(store, remove, TaskReport(succeeded: true, message: "removed"))
            stored = try await site(store, id)
            #expect(stored.state == .removed && stored.suspensionReasons == [.manual], "a removal keeps the reasons")
            var names = 0
            for try await count in try await store.client.query(
                "SELECT count(*)::integer FROM site_names WHERE site_id = \(id.uuid)").decode(Int.self) { names = count }
            #expect(names == 0, "a removed site holds no name")
        }
    }
}

/// Counts the tests read back.
enum TestCounts {
    static func tasks(_ client: PostgresClient, site: SiteID) async throws -> Int {
        var total = 0
        for try await count in try await client.query(
            "SELECT count(*)::integer FROM tasks WHERE site_id = \(site.uuid)").decode(Int.self) { total = count }
        return total
    }
}
