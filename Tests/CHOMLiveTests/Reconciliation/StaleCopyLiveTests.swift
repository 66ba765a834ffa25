import CHOMAPI
import CHOMAgent
import CHOMCore
import CHOMCoordinator
import CHOMProtocol
import CHOMStore
import CHOMTesting
import Foundation
import PostgresNIO
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Reconciliation end to end: a coordinator, two agents over mTLS each hosting on its own real nginx.
/// A site restored from agent A onto agent B leaves A a stale copy; A's inventories remove it after
/// the grace, backed up first as a `stale_copy` backup nobody may restore.
@Suite(
    "Reconciliation: a stale copy is backed up and removed after the grace",
    .enabled(if: getuid() == 0 && TestNginx.binary != nil, "needs root (site users) and nginx"))
struct StaleCopyLiveTests {
    static let domain = "stale.test"
    static let grace = 3.0

    @Test("A's copy of a site restored onto B: stale_copy backup, removal after the grace, B untouched; a replay does nothing")
    func staleCopyRemoved() async throws {
        let backups = try TemporaryDirectory.make(prefix: "chom-reconcile-backups")
        defer { TemporaryDirectory.remove(backups) }
        try await TestCoordinator.with(configure: {
            $0.backups.destination.path = backups.path
            $0.reconcile.staleGraceSeconds = Self.grace
        }) { coordinator in
            try await TestNginx.with { nginxA in
                try await TestNginx.with { nginxB in
                    try await TestAgent.with(coordinator: coordinator, name: "vps-a", configure: {
                        nginxA.host(&$0)
                        $0.inventoryInterval = .seconds(1)
                    }) { a in
                        try await coordinator.waitOnline([a.agentID])
                        // Only A is online: the site is placed there.
                        let site = try await coordinator.createSite(domain: Self.domain)
                        #expect(site.agentId == a.agentID.description)
                        let deployed = try await coordinator.waitForTask(
                            try await coordinator.deploy(site: Self.domain, files: ["public/index.html": "<h1>stale</h1>"]).id)
                        #expect(deployed.state == "succeeded", "\(deployed.message ?? "")")
                        try await TestAgent.with(coordinator: coordinator, name: "vps-b", configure: {
                            nginxB.host(&$0)
                            $0.inventoryInterval = .seconds(1)
                        }) { b in
                            try await coordinator.waitOnline([b.agentID])
                            try await moveAndReconcile(coordinator, site: site, a: a, b: b, nginxA: nginxA, nginxB: nginxB)
                        }
                    }
                }
            }
        }
    }

    @Test("a task that changes the sites an agent holds is followed by an inventory at once, not at the next interval; one that changes nothing is not")
    func inventoryAfterChange() async throws {
        try await TestCoordinator.with { coordinator in
            try await TestNginx.with { nginx in
                try await TestAgent.with(coordinator: coordinator, name: "vps-a", configure: {
                    nginx.host(&$0)
                    // Only the hello's inventory and the ones after changes come within the test.
                    $0.inventoryInterval = .seconds(3600)
                }) { a in
                    try await coordinator.waitOnline([a.agentID])
                    try await coordinator.eventually("the hello's inventory") { try await inventorySequence(coordinator, a.agentID) != nil }
                    let first = try #require(try await inventorySequence(coordinator, a.agentID))
                    let ping = try await coordinator.waitForTask(try await coordinator.client.ping(agent: a.agentID.description).id)
                    #expect(ping.state == "succeeded")
                    #expect(try await inventorySequence(coordinator, a.agentID) == first, "a ping changes nothing")
                    _ = try await coordinator.createSite(domain: Self.domain)
                    let deployed = try await coordinator.waitForTask(
                        try await coordinator.deploy(site: Self.domain, files: ["public/index.html": "<h1>new</h1>"]).id)
                    #expect(deployed.state == "succeeded", "\(deployed.message ?? "")")
                    try await coordinator.eventually("an inventory showing the new tree", timeout: .seconds(20)) {
                        try await inventorySequence(coordinator, a.agentID) ?? 0 > first
                    }
                    // Reported once for the change: the pings after it send none.
                    let afterChange = try #require(try await inventorySequence(coordinator, a.agentID))
                    for _ in 0..<3 {
                        let again = try await coordinator.waitForTask(try await coordinator.client.ping(agent: a.agentID.description).id)
                        #expect(again.state == "succeeded")
                    }
                    #expect(try await inventorySequence(coordinator, a.agentID) == afterChange)

                    // The site's record as an agent older than the fence wrote it (no format): the
                    // agent reports it at version 0 after its next task, reconciliation configures it
                    // again, and until an inventory shows that it does not fail over.
                    #expect(try await unfencedSites(coordinator, a.agentID).isEmpty)
                    let site = try await coordinator.client.site(Self.domain)
                    let recordFile = a.runtime.configuration.siteRecordsDirectory.appendingPathComponent(site.id + ".json")
                    var record = try JSONSerialization.jsonObject(with: Data(contentsOf: recordFile)) as? [String: Any] ?? [:]
                    #expect(record["format"] as? Int == 2, "\(record)")
                    record["format"] = nil
                    try JSONSerialization.data(withJSONObject: record).write(to: recordFile)
                    _ = try await coordinator.client.ping(agent: a.agentID.description)
                    try await coordinator.eventually("reported at version 0, or already configured again") {
                        if try await unfencedSites(coordinator, a.agentID) == [site.id] { return true }
                        return try await count(coordinator, "SELECT count(*) FROM audit_entries WHERE action = 'agent.reconcile'") > 0
                    }
                    // The unfenced list is written before the reconciliation's transaction queues the
                    // configure: seen the one, the other follows (a one-shot check raced it in CI).
                    try await coordinator.eventually("the site's configure queued by reconciliation", timeout: .seconds(30)) {
                        try await count(coordinator, """
                            SELECT count(*) FROM tasks WHERE kind = 'configure' AND site_id = '\(site.id)' AND created_at > now() - interval '1 minute'
                            """) >= 1
                    }
                    try await coordinator.eventually("the site configured again and reported", timeout: .seconds(30)) {
                        try await unfencedSites(coordinator, a.agentID).isEmpty
                    }
                }
            }
        }
    }

    private func moveAndReconcile(
        _ coordinator: TestCoordinator, site: SiteResponse, a: TestAgent, b: TestAgent, nginxA: TestNginx, nginxB: TestNginx
    ) async throws {
        let client = coordinator.client
        // In sync on A: its inventories queue nothing.
        try await coordinator.eventually("A's inventory recorded") { try await inventorySequence(coordinator, a.agentID) != nil }
        #expect(try await count(coordinator, "SELECT count(*) FROM audit_entries WHERE action = 'agent.reconcile'") == 0)

        let backup = try await client.createBackup(site: Self.domain)
        let backedUp = try await coordinator.waitForTask(try #require(backup.taskId))
        #expect(backedUp.state == "succeeded", "\(backedUp.message ?? "")")
        let restored = try await coordinator.waitForTask(
            try await client.restoreBackup(site: Self.domain, backup: backup.id, agentID: b.agentID.description).id,
            timeout: .seconds(60))
        #expect(restored.state == "succeeded", "\(restored.message ?? "")")
        let placedOnB = Date()
        #expect(try await client.site(Self.domain).agentId == b.agentID.description)

        // A reports its copy every second; it is removed only after the grace, backed up first.
        let siteTree = a.sitesRoot.appendingPathComponent(Self.domain)
        let serverBlock = nginxA.sitesDirectory.appendingPathComponent("\(Self.domain).conf")
        try await coordinator.eventually("A's stale copy removed", timeout: .seconds(60)) {
            !FileManager.default.fileExists(atPath: siteTree.path)
        }
        // Queued only once the grace had passed after the site was placed on B.
        #expect(try await count(coordinator, """
            SELECT count(*) FROM tasks t JOIN sites s ON s.id = t.site_id
            WHERE t.kind = 'remove' AND t.agent_id = '\(a.agentID)'
              AND t.created_at >= s.placed_at + interval '\(Int(Self.grace)) seconds'
            """) == 1)
        #expect(Date().timeIntervalSince(placedOnB) >= Self.grace - 1)
        #expect(!FileManager.default.fileExists(atPath: serverBlock.path))
        try await coordinator.eventually("the removal recorded") {
            try await count(coordinator, """
                SELECT count(*) FROM tasks WHERE kind = 'remove' AND agent_id = '\(a.agentID)' AND state = 'succeeded'
                """) == 1
        }
        let staleCopies = try await client.backups(site: Self.domain).filter { $0.id != backup.id }
        #expect(staleCopies.count == 1 && staleCopies.first?.state == "succeeded", "\(staleCopies)")
        let stale = try #require(staleCopies.first)
        #expect(try await count(coordinator, "SELECT count(*) FROM backups WHERE purpose = 'stale_copy' AND id = '\(stale.id)'") == 1)
        #expect(try await count(coordinator, """
            SELECT count(*) FROM audit_entries WHERE action = 'agent.reconcile' AND target = 'agent:\(a.agentID)'
              AND (details::jsonb)->>'remove_stale_copy' = '1'
            """) == 1)

        // The site lives on, on B, served by B's nginx.
        let onB = try await client.site(Self.domain)
        #expect(onB.agentId == b.agentID.description && onB.state == "active", "\(onB)")
        try await nginxB.waitForWorkers()
        #expect(try await HealthCheck(port: nginxB.port, timeout: .seconds(5)).get(host: Self.domain).body == "<h1>stale</h1>")
        #expect(FileManager.default.fileExists(atPath: b.sitesRoot.appendingPathComponent("\(Self.domain)/current").path))

        // The stale copy's backup is never restored.
        let refused = try await TestHTTP.request(
            "POST", coordinator.apiURL.appending(path: "/v1/sites/\(site.id)/backups/\(stale.id)/restore"),
            token: coordinator.operatorToken, body: Data("{}".utf8))
        #expect(refused.status == 409 && refused.text.contains("stale copy"), "\(refused.status) \(refused.text)")

        // A replayed inventory (the newest sequence, the site held again) changes nothing.
        let sequence = try #require(try await inventorySequence(coordinator, a.agentID))
        let tasksBefore = try await count(coordinator, "SELECT count(*) FROM tasks")
        var replay = Chom_Agent_V1_Inventory()
        replay.sequence = UInt64(sequence)
        var held = Chom_Agent_V1_SiteInventory()
        held.siteID = site.id
        held.domain = Self.domain
        replay.sites = [held]
        let summary = try await TestDatabase.withClient(dataDirectory: coordinator.dataDirectory) { postgres in
            let applier = try InventoryApplier.make(
                store: Store(client: postgres, logger: TestLogging.logger("chom.test.store")),
                configuration: coordinator.coordinator.configuration, logger: TestLogging.logger("chom.test.reconcile"))
            return try await applier.reconcile(replay, from: a.agentID, now: Date())
        }
        // A duplicate, or stale when the agent's next inventory (every second here) came first.
        #expect(summary.admission != .fresh && summary.queued == 0, "\(summary)")
        #expect(try await count(coordinator, "SELECT count(*) FROM tasks") == tasksBefore)
        // An agent that never hosted the site (a compromised one naming it by id, or by its domain)
        // gets nothing about it: no task, so none of its secrets.
        let stranger = try await IdentityFixtures.addAgent(coordinator)
        var claim = Chom_Agent_V1_Inventory()
        claim.sequence = 1
        var byID = Chom_Agent_V1_SiteInventory()
        byID.siteID = site.id
        byID.domain = Self.domain
        var byDomain = Chom_Agent_V1_SiteInventory()
        byDomain.domain = Self.domain
        claim.sites = [byID, byDomain]
        let strangers = try await TestDatabase.withClient(dataDirectory: coordinator.dataDirectory) { postgres in
            let applier = try InventoryApplier.make(
                store: Store(client: postgres, logger: TestLogging.logger("chom.test.store")),
                configuration: coordinator.coordinator.configuration, logger: TestLogging.logger("chom.test.reconcile"))
            return try await applier.reconcile(claim, from: try #require(AgentID(stranger)), now: Date())
        }
        #expect(strangers.admission == .fresh && strangers.queued == 0 && strangers.unknown == 2, "\(strangers)")
        #expect(try await count(coordinator, "SELECT count(*) FROM tasks WHERE agent_id = '\(stranger)'") == 0)
        #expect(try await count(coordinator, "SELECT count(*) FROM tasks") == tasksBefore)

        // B, in sync, never had anything queued by reconciliation.
        #expect(try await count(coordinator, "SELECT count(*) FROM audit_entries WHERE action = 'agent.reconcile' AND target = 'agent:\(b.agentID)'") == 0)
    }

    private func inventorySequence(_ coordinator: TestCoordinator, _ agent: AgentID) async throws -> Int64? {
        try await TestDatabase.withClient(dataDirectory: coordinator.dataDirectory) { client in
            let rows = try await client.query(
                "SELECT max(sequence) FROM agent_reports WHERE agent_id = \(agent.uuid) AND stream = 'inventory'")
            for try await sequence in rows.decode(Int64?.self) { return sequence }
            return nil
        }
    }

    private func unfencedSites(_ coordinator: TestCoordinator, _ agent: AgentID) async throws -> [String] {
        try await TestDatabase.withClient(dataDirectory: coordinator.dataDirectory) { client in
            let rows = try await client.query("SELECT unfenced_sites FROM agents WHERE id = \(agent.uuid)")
            for try await sites in rows.decode([UUID].self) { return sites.map { $0.uuidString.lowercased() } }
            return []
        }
    }

    private func count(_ coordinator: TestCoordinator, _ sql: String) async throws -> Int {
        try await TestDatabase.count(sql, dataDirectory: coordinator.dataDirectory)
    }
}
