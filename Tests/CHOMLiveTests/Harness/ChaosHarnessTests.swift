import CHOMAPI
import CHOMCore
import CHOMCoordinator
import CHOMTesting
import Foundation
import Synchronization
import Testing

/// Faults on the namespace harness (three `chom-agent` processes in network namespaces, a
/// coordinator on the bridge, backups in a directory every host shares), with the failure
/// detector, failover and the agents' site lease at short settings (heartbeat 1 s, TTL 3 s,
/// grace 3 s, lease 3 s: 3 × 1.01 + 2 < 6):
/// - a blip shorter than the grace fails nothing over;
/// - a host cut from the coordinator only (its visitors still reach it) answers 503 within its
///   lease, before its site fails over, and never its diverging copy again; the site is served
///   from its last backup on another host;
/// - back, the host is unfenced and its stale copy is removed.
/// It prints a table of what it measured.
@Suite(
    "Chaos on the namespace harness: a blip, a partition from the coordinator, fencing and failover",
    .enabled(if: NamespaceHarness.isAvailable, "\(NamespaceHarness.unavailableReason ?? "")"))
struct ChaosHarnessTests {
    static let domain = "chaos.harness.test"

    @Test("a blip fails nothing over; a host cut from the coordinator fences (503) before its site fails over, never serves its copy again, and drops it when back; a host whose agent is killed alone is fenced by its nginx before its site fails over")
    func partitionFencingFailover() async throws {
        let backups = try TemporaryDirectory.make(prefix: "chom-chaos-backups")
        defer { TemporaryDirectory.remove(backups) }
        try await NamespaceHarness.with(
            hosts: 3,
            configure: { configuration in
                configuration.backups.destination.path = backups.path
                configuration.fleet.sharedBackupDirectory = true
                configuration.fleet.tickSeconds = 0.2
                configuration.fleet.healthTimeoutSeconds = 20
                configuration.fleet.failoverEnabled = true
                configuration.agents.heartbeatIntervalSeconds = 1
                configuration.agents.heartbeatTTLSeconds = 3
                configuration.agents.failureGraceSeconds = 3
                configuration.agents.siteLeaseSeconds = 3
                configuration.reconcile.staleGraceSeconds = 2
            },
            agentArguments: ["--heartbeat-interval", "1"]
        ) { harness in
            try await ChaosWorld(harness: harness).run()
        }
    }
}

private struct ChaosWorld {
    let harness: NamespaceHarness
    var coordinator: TestCoordinator { harness.coordinator }
    var client: AdminClient { harness.coordinator.client }
    let domain = ChaosHarnessTests.domain

    func run() async throws {
        // The site, backed up at v1, then changed to v2 on its host: v2 is the copy that diverges.
        let site = try await coordinator.createSite(domain: domain)
        try await deploy("<h1>v1</h1>")
        let backup = try await client.createBackup(site: domain)
        let backedUp = try await coordinator.waitForTask(try #require(backup.taskId), timeout: .seconds(60))
        #expect(backedUp.state == "succeeded", "\(backedUp.message ?? "")")
        try await deploy("<h1>v2</h1>")
        let a = try #require(harness.host(agentID: try await client.site(domain).agentId))
        try await waitServes(a, "<h1>v2</h1>")
        var table: [(String, String)] = []

        // 1. A blip shorter than the grace: nothing fails over, nobody is declared failed.
        try await a.disconnect()
        try await Task.sleep(for: .seconds(1))
        try await a.reconnect()
        let watchUntil = ContinuousClock.now + .seconds(8)
        while ContinuousClock.now < watchUntil {
            #expect(try await client.migrations(site: site.id).isEmpty, "a blip started a failover")
            #expect(try await client.agent(id: try #require(a.agentID).description).health != "offline")
            try await Task.sleep(for: .milliseconds(250))
        }
        try await waitServes(a, "<h1>v2</h1>")
        table.append(("1 s link blip", "no failover, agent never offline (watched 8 s)"))

        // 2. Cut from the coordinator only; a client keeps asking the host for the site.
        let cut = ContinuousClock.now
        try await a.cutCoordinator(port: coordinator.ports.agents)
        let observer = Observer()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await watch(a, into: observer) }
            defer { group.cancelAll() }
            try await coordinator.eventually("the failover to finish", timeout: .seconds(150)) {
                let migrations = try await client.migrations(site: site.id)
                if !migrations.isEmpty { observer.noteFailoverSeen() }
                return migrations.contains { $0.reason == "failover" && $0.state == "succeeded" }
            }
            group.cancelAll()
        }
        let b = try #require(harness.host(agentID: try await client.site(domain).agentId))
        #expect(b.name != a.name)
        print("chaos: \(a.name) cut, failed over to \(b.name)")
        try await waitServes(b, "<h1>v1</h1>")
        let seen = observer.snapshot
        let fenced = try #require(seen.firstFenced, "the cut host never answered 503")
        let failoverSeen = try #require(seen.failoverSeen)
        #expect(fenced < failoverSeen, "the cut host was still serving when its failover began")
        #expect(seen.servedAfterFence == 0, "the cut host served its copy \(seen.servedAfterFence) times after fencing")
        let failover = try #require(try await client.migrations(site: site.id).first { $0.reason == "failover" })
        table.append(("coordinator route cut: fenced (503)", "\(cut.duration(to: fenced)) after the cut"))
        table.append(("coordinator route cut: failover seen", "\(cut.duration(to: failoverSeen)) after the cut"))
        table.append((
            "coordinator route cut: recovery", "time \(failover.recoveryTimeSeconds.map { "\($0) s" } ?? "-"), point \(failover.recoveryPointSeconds.map { "\($0) s" } ?? "-")"
        ))
        table.append(("the cut host's answers while cut (status: count)", "\(seen.statuses.sorted { $0.key < $1.key })"))

        // 3. Back: it reconnects, is unfenced, and reconciliation removes its stale copy.
        // It stays fenced while it holds a copy of a site placed elsewhere: the diverging copy never
        // answers again, not even between its return and the copy's removal.
        let back = ContinuousClock.now
        try await a.restoreCoordinator()
        let returning = Observer()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await watch(a, into: returning) }
            defer { group.cancelAll() }
            try await coordinator.eventually("the stale copy removed from \(a.name)", timeout: .seconds(60)) {
                !FileManager.default.fileExists(atPath: a.sitesRoot.appendingPathComponent(domain).path)
            }
            group.cancelAll()
        }
        #expect(returning.snapshot.diverging == 0, "the returning host served its stale copy: \(returning.snapshot.statuses)")
        // Unfenced and without the site: its nginx's default server answers.
        try await coordinator.eventually("\(a.name) unfenced", timeout: .seconds(30)) {
            (try? await harness.fetch(host: a, path: "/", hostHeader: domain, timeout: .seconds(2)))?.status == 404
        }
        table.append(("route back: stale copy removed, unfenced", "\(back.duration(to: .now)) after"))
        try await waitServes(b, "<h1>v1</h1>")

        // 4. The agent of the host that now serves the site is killed alone: its nginx runs on and
        // nobody tells it anything. It stops serving the copy by itself once the lease tokens the
        // agent wrote ahead run out, before the site fails over again.
        let killed = ContinuousClock.now
        await b.killAgent()
        let orphan = Observer(copy: "v1")
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await watch(b, into: orphan) }
            defer { group.cancelAll() }
            try await coordinator.eventually("the second failover to finish", timeout: .seconds(150)) {
                let failovers = try await client.migrations(site: site.id).filter { $0.reason == "failover" }
                if failovers.count >= 2 { orphan.noteFailoverSeen() }
                return failovers.filter { $0.state == "succeeded" }.count >= 2
            }
            group.cancelAll()
        }
        let c = try #require(harness.host(agentID: try await client.site(domain).agentId))
        #expect(c.name != b.name)
        print("chaos: \(b.name)'s agent killed, failed over to \(c.name)")
        try await waitServes(c, "<h1>v1</h1>")
        let orphaned = orphan.snapshot
        let fencedByNginx = try #require(orphaned.firstFenced, "the killed agent's nginx never answered 503")
        #expect(fencedByNginx < (try #require(orphaned.failoverSeen)), "it still served when the site failed over")
        #expect(orphaned.servedAfterFence == 0, "it served its copy \(orphaned.servedAfterFence) times after fencing")
        #expect(killed.duration(to: fencedByNginx) < .seconds(3 + 2), "the lease is 3 s")
        table.append(("agent killed, its nginx left running: 503", "\(killed.duration(to: fencedByNginx)) after the kill (nginx alone)"))
        table.append(("its answers until the failover (status: count)", "\(orphaned.statuses.sorted { $0.key < $1.key })"))

        print("chaos on the namespace harness (heartbeat 1 s, TTL 3 s, grace 3 s, lease 3 s):")
        for (fault, result) in table { print("  \(fault.padding(toLength: 42, withPad: " ", startingAt: 0)) \(result)") }
    }

    /// Fetches the site from `host` every 50 ms until cancelled, recording what it answers.
    func watch(_ host: NamespaceHost, into observer: Observer) async throws {
        while !Task.isCancelled {
            if let reply = try? await harness.fetch(host: host, path: "/", hostHeader: domain, timeout: .seconds(1)) {
                observer.note(status: reply.status, body: reply.text)
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    func deploy(_ body: String) async throws {
        let task = try await coordinator.waitForTask(
            try await coordinator.deploy(site: domain, files: ["public/index.html": body]).id, timeout: .seconds(60))
        #expect(task.state == "succeeded", "\(task.message ?? "")")
    }

    func waitServes(_ host: NamespaceHost, _ body: String) async throws {
        try await coordinator.eventually("\(host.name) serves \(body)", timeout: .seconds(30)) {
            (try? await harness.fetch(host: host, path: "/", hostHeader: domain, timeout: .seconds(2)))?.text == body
        }
    }
}

/// What the client saw from the cut host, and when the failover first showed.
private final class Observer: Sendable {
    struct Seen {
        var firstFenced: ContinuousClock.Instant?
        var failoverSeen: ContinuousClock.Instant?
        var servedAfterFence = 0
        /// Answers with the diverging copy (v2), whenever seen.
        var diverging = 0
        var statuses: [Int: Int] = [:]
    }

    private let state = Mutex(Seen())
    /// The copy that must not be served once fenced.
    private let copy: String

    init(copy: String = "v2") {
        self.copy = copy
    }

    var snapshot: Seen { state.withLock { $0 } }

    func note(status: Int, body: String) {
        state.withLock { seen in
            seen.statuses[status, default: 0] += 1
            if status == 503, seen.firstFenced == nil { seen.firstFenced = .now }
            if seen.firstFenced != nil, status == 200, body.contains(copy) { seen.servedAfterFence += 1 }
            if status == 200, body.contains(copy) { seen.diverging += 1 }
        }
    }

    func noteFailoverSeen() {
        state.withLock { if $0.failoverSeen == nil { $0.failoverSeen = .now } }
    }
}
