import AsyncHTTPClient
import CHOMAPI
import CHOMCore
import CHOMCoordinator
import CHOMScheduler
import CHOMTesting
import Foundation
import NIOCore
import NIOHTTP1
import Synchronization
import Testing

/// The fleet on separate hosts: three `chom-agent` processes in their own network namespaces, each
/// with its own address and nginx on port 80, a coordinator and a real PowerDNS in the root
/// namespace, backups in a directory every host shares. A move while a client resolves and fetches
/// the site every 20 ms, a php site's move with its uploads, a drain of an agent holding 10 sites,
/// a rebalance of an overloaded agent, and a stale copy removed from a host that comes back.
@Suite(
    "Fleet on the namespace harness: move, drain, rebalance with DNS",
    .enabled(if: NamespaceHarness.isAvailable, "\(NamespaceHarness.unavailableReason ?? "")"))
struct FleetHarnessTests {
    static let zone = "fleet.harness.test."

    @Test("a move loses no request of a client resolving through PowerDNS; a php site keeps its uploads; a drain empties an agent of 10 sites; a rebalance evens an overloaded agent and then plans nothing; a stale copy goes")
    func moveDrainRebalance() async throws {
        let backups = try TemporaryDirectory.make(prefix: "chom-fleet-backups")
        defer { TemporaryDirectory.remove(backups) }
        try await NamespaceNetwork.with(hosts: 3) { network in
            try await PowerDNSServer.with { pdns in
                try await TestCoordinator.with(configure: { configuration in
                    network.configureCoordinator(&configuration)
                    Self.configure(&configuration, pdns: pdns, backups: backups)
                }) { coordinator in
                    try await NamespaceHarness.with(coordinator: coordinator, network: network) { harness in
                        let fleet = FleetWorld(harness: harness, pdns: pdns)
                        try await fleet.move()
                        try await fleet.phpMove()
                        try await fleet.drain()
                        try await fleet.rebalance()
                        try await fleet.staleCopy()
                    }
                }
            }
        }
    }

    static func configure(_ configuration: inout CoordinatorConfiguration, pdns: PowerDNSServer, backups: URL) {
        configuration.backups.destination.path = backups.path
        configuration.fleet.sharedBackupDirectory = true
        configuration.fleet.proxySeconds = 3
        configuration.fleet.tickSeconds = 0.2
        configuration.fleet.dnsUpkeepSeconds = 1
        configuration.fleet.healthTimeoutSeconds = 20
        configuration.fleet.maxConcurrentMigrations = 4
        // The three hosts share this machine's memory and disk, whose use depends on whatever else
        // the machine runs: only CPU, which sites request, tells one host from another here.
        configuration.fleet.rebalance.dimensions = [.cpu]
        configuration.dns.provider = "powerdns"
        var powerdns = CoordinatorConfiguration.DNS.PowerDNS(apiURL: pdns.apiURL.absoluteString)
        powerdns.apiKey = pdns.apiKey
        powerdns.createZones = true
        configuration.dns.powerdns = powerdns
        configuration.dns.fleetZone = zone
        configuration.dns.ttlSeconds = 1
        configuration.reconcile.staleGraceSeconds = 2
    }
}

/// One harness run's steps, in order.
private struct FleetWorld {
    let harness: NamespaceHarness
    let pdns: PowerDNSServer
    var coordinator: TestCoordinator { harness.coordinator }
    var client: AdminClient { harness.coordinator.client }

    func fleetName(_ site: SiteResponse) -> String { "\(site.id).\(FleetHarnessTests.zone)" }

    /// Waits until the site's fleet name resolves to exactly `host`'s address.
    func waitResolves(_ site: SiteResponse, to host: NamespaceHost, timeout: Duration = .seconds(30)) async throws {
        var last = DNSAnswer(status: "none", values: [])
        do {
            try await coordinator.eventually("\(site.domain) resolves to \(host.name)", timeout: timeout) {
                last = (try? await pdns.query(fleetName(site))) ?? last
                return last.status == "NOERROR" && last.values == [host.address]
            }
        } catch {
            throw CHOMError(.unavailable, "\(fleetName(site)) answers \(last), not \(host.address)")
        }
    }

    /// Polls until `host` serves `body` for `domain` (a reload's old workers may answer once more).
    func waitServes(_ host: NamespaceHost, _ domain: String, _ body: String? = nil, path: String? = nil) async throws {
        let expected = body ?? Self.body(of: domain)
        let path = path ?? (domain == Self.phpDomain ? "/index.php" : "/")
        try await coordinator.eventually("\(host.name) serves \(domain)", timeout: .seconds(20)) {
            (try? await harness.fetch(host: host, path: path, hostHeader: domain, timeout: .seconds(2)))?.text == expected
        }
    }

    static let movingDomain = "moving.harness.test"
    static let phpDomain = "php.harness.test"

    /// What `/` of each site of this run answers (`/index.php` for the php site).
    static func body(of domain: String) -> String {
        switch domain {
        case movingDomain: "<h1>moving</h1>"
        case phpDomain: "php-ok"
        default: "<p>\(domain)</p>"
        }
    }

    func deploy(_ domain: String, _ body: String) async throws {
        let task = try await coordinator.waitForTask(
            try await coordinator.deploy(site: domain, files: ["public/index.html": body]).id, timeout: .seconds(60))
        #expect(task.state == "succeeded", "\(domain): \(task.message ?? "")")
    }

    func host(of site: String) async throws -> NamespaceHost {
        let placed = try await client.site(site)
        return try #require(harness.host(agentID: placed.agentId), "\(placed.domain) on \(placed.agentId ?? "none")")
    }

    func waitFinished(_ migrations: [String], timeout: Duration = .seconds(240)) async throws -> [MigrationResponse] {
        var finished: [MigrationResponse] = []
        try await coordinator.eventually("\(migrations.count) migrations finished", timeout: timeout) {
            finished = []
            for id in migrations { finished.append(try await client.migration(id: id)) }
            return finished.allSatisfy { $0.finishedAt != nil }
        }
        for migration in finished {
            #expect(migration.state == "succeeded", "\(migration.domain ?? migration.siteId): \(migration.failedStep ?? "") \(migration.message)")
        }
        return finished
    }

    // MARK: Move

    /// A static site moves from its agent to another while a client resolves its fleet name through
    /// PowerDNS and fetches it from the address it got, every 20 ms. None of those requests may fail.
    func move() async throws {
        let domain = Self.movingDomain
        let site = try await coordinator.createSite(domain: domain)
        let from = try await host(of: site.id)
        try await deploy(domain, "<h1>moving</h1>")
        try await waitResolves(site, to: from)
        try await waitServes(from, domain, "<h1>moving</h1>")
        let to = try #require(harness.hosts.first { $0 !== from })

        let loop = ClientLoop(name: fleetName(site), domain: domain, body: "<h1>moving</h1>", pdns: pdns)
        let started = ContinuousClock.now
        let migration = try await withThrowingTaskGroup(of: MigrationResponse?.self) { group in
            group.addTask { try await loop.run(); return nil }
            let started = try await client.moveSite(site.id, to: try #require(to.agentID?.description))
            let done = try await waitFinished([started.id], timeout: .seconds(120))
            // A little more: clients that resolved just before the old copy went.
            try await Task.sleep(for: .seconds(1))
            loop.stop()
            for try await _ in group {}
            return done[0]
        }
        let elapsed = ContinuousClock.now - started
        let (requests, failures, answeredBy) = loop.results
        print("""
            fleet harness, move of a static site: \(requests) requests in \(elapsed) (resolve + fetch every 20 ms), \
            \(failures.count) failed; answered by \(answeredBy.sorted().joined(separator: ", ")); \
            migration \(migration.createdAt.distance(to: migration.finishedAt ?? migration.createdAt)) s
            """)
        #expect(failures.isEmpty, "\(failures.count) failed: \(failures.prefix(5)); switched at \(migration.switchedAt?.timeIntervalSince1970 ?? 0)")
        #expect(requests > 10, "too few requests during the move to say anything")
        #expect(answeredBy == [from.address, to.address], "\(answeredBy)")
        try await waitResolves(site, to: to)
        #expect(try await harness.fetch(host: from, hostHeader: domain).status == 404)
        #expect(try await client.site(site.id).agentId == to.agentID?.description)
    }

    // MARK: php with uploads

    /// A php site whose uploads live in a shared path: a file written through the site before the
    /// move is there after it, served by the new agent. The move has a final pass (the old agent in
    /// maintenance, a last backup restored), whose window is reported.
    func phpMove() async throws {
        let domain = Self.phpDomain
        let site = try await coordinator.createSite(domain: domain)
        let configured = try await client.configureSite(site.id, SiteConfigRequest(kind: "php", sharedPaths: ["storage/"]))
        #expect(try await coordinator.waitForTask(configured.task.id, timeout: .seconds(60)).state == "succeeded")
        let task = try await coordinator.waitForTask(
            try await coordinator.deploy(site: domain, files: [
                "public/index.php": "<?php echo 'php-ok';",
                "public/upload.php": "<?php file_put_contents(__DIR__ . '/../storage/note.txt', $_GET['text'] ?? ''); echo 'stored';",
                "public/note.php": "<?php echo @file_get_contents(__DIR__ . '/../storage/note.txt');",
            ]).id, timeout: .seconds(60))
        #expect(task.state == "succeeded", "\(task.message ?? "")")
        let from = try await host(of: site.id)
        try await waitServes(from, domain, path: "/index.php")
        let note = "written before the move \(UUID().uuidString.prefix(8))"
        let upload = try await harness.fetch(
            host: from, path: "/upload.php?text=" + note.replacingOccurrences(of: " ", with: "+"), hostHeader: domain)
        #expect(upload.status == 200 && upload.text == "stored", "\(upload.status) \(upload.text)")

        let started = try await client.moveSite(site.id, to: nil)
        let done = try await waitFinished([started.id], timeout: .seconds(180))[0]
        let to = try await host(of: site.id)
        #expect(to !== from)
        let window = try #require(done.maintenanceSeconds, "a php site's move reports its maintenance window")
        print("fleet harness, move of a php site with uploads: maintenance window \(window) s, steps through \(done.step)")
        try await waitServes(to, domain, note, path: "/note.php")
        try await waitResolves(site, to: to)
    }

    // MARK: Drain

    /// The agent with the fewest sites, given 10 more, is drained: it ends `drained` with none, every site served by the
    /// agent it moved to and resolving to that agent's address.
    func drain() async throws {
        let agents = try await client.agents()
        let emptiest = try #require(agents.filter { id in harness.host(agentID: id.id) != nil }.min { $0.sites < $1.sites })
        let target = try #require(harness.host(agentID: emptiest.id))
        let others = harness.hosts.filter { $0 !== target }
        for other in others { _ = try await client.setScheduling(agent: try #require(other.agentID?.description), "cordon") }
        var sites: [SiteResponse] = []
        for number in 1...10 {
            let site = try await coordinator.createSite(domain: "drain\(number).harness.test")
            #expect(site.agentId == target.agentID?.description)
            sites.append(site)
            try await deploy(site.domain, "<p>\(site.domain)</p>")
        }
        for other in others { _ = try await client.setScheduling(agent: try #require(other.agentID?.description), "uncordon") }
        let agentID = try #require(target.agentID?.description)
        #expect(try await client.agents().first { $0.id == agentID }?.sites == emptiest.sites + 10)
        let held = try await client.sites().filter { $0.agentId == agentID }

        let started = ContinuousClock.now
        let draining = try await client.setScheduling(agent: agentID, "drain")
        #expect(draining.scheduling == "draining")
        try await coordinator.eventually("\(target.name) drained", timeout: .seconds(300)) {
            let agent = try await client.agents().first { $0.id == agentID }
            return agent?.scheduling == "drained" && agent?.sites == 0
        }
        print("fleet harness, drain of 10 sites: \(ContinuousClock.now - started)")
        let migrations = try await client.migrations().filter { $0.reason == "drain" }
        #expect(migrations.allSatisfy { $0.domain?.hasSuffix(".harness.test") == true })
        #expect(migrations.count == held.count && migrations.allSatisfy { $0.state == "succeeded" }, "\(migrations.map { ($0.domain, $0.state, $0.message) })")
        #expect(sites.allSatisfy { site in held.contains { $0.id == site.id } })
        for site in held {
            let host = try await host(of: site.id)
            #expect(host !== target)
            try await waitResolves(site, to: host)
            try await waitServes(host, site.domain)
            #expect(try await harness.fetch(host: target, hostHeader: site.domain).status == 404)
        }
        // A new site never lands on the drained agent; uncordoned, it takes sites again.
        let later = try await coordinator.createSite(domain: "after-drain.harness.test")
        #expect(later.agentId != agentID)
        #expect(try await client.setScheduling(agent: agentID, "uncordon").scheduling == "schedulable")
    }

    // MARK: Rebalance

    /// The agent holding the most sites is made overloaded (its sites now request all its cores
    /// between them): the plan moves sites off it, applied they move, and the next plan is empty.
    func rebalance() async throws {
        let agents = try await client.agents()
        let busiest = try #require(agents.max { $0.sites < $1.sites })
        let onIt = try await client.sites().filter { $0.agentId == busiest.id && $0.state == "active" }
        #expect(onIt.count >= 4, "\(onIt.count) sites on \(busiest.name)")
        // Together they request every core of the agent: far above the 80 % threshold.
        let share = Int64(busiest.cpuCount) * 1000 / Int64(max(onIt.count, 1))
        for site in onIt {
            let answer = try await client.setRequests(site: site.id, SiteRequestsRequest(cpuMillis: share))
            #expect(answer.cpuMillis == share && answer.overrides.cpuMillis == share)
        }
        let plan = try await client.rebalance(apply: false)
        #expect(!plan.applied && !plan.moves.isEmpty)
        #expect(plan.moves.allSatisfy { $0.fromAgentId == busiest.id && $0.toAgentId != busiest.id }, "\(plan.moves)")
        for move in plan.moves { print("fleet harness, rebalance plan: \(move.domain) \(move.fromAgentName) → \(move.toAgentName): \(move.reason)") }
        // Planning moved nothing.
        #expect(try await client.migrations(open: true).isEmpty)

        let applied = try await client.rebalance(apply: true)
        #expect(applied.applied && applied.migrations.count == plan.moves.count)
        #expect(Set(applied.moves.map(\.siteId)) == Set(plan.moves.map(\.siteId)))
        let finished = try await waitFinished(applied.migrations.map(\.id))
        #expect(finished.allSatisfy { $0.reason == "rebalance" })
        for move in applied.moves {
            let site = try await client.site(move.siteId)
            #expect(site.agentId == move.toAgentId)
            let host = try #require(harness.host(agentID: move.toAgentId))
            try await waitServes(host, site.domain)
        }
        let again = try await client.rebalance(apply: false)
        #expect(again.moves.isEmpty, "\(again.moves)")
    }

    // MARK: Stale copy

    /// A host that was down while its site was restored elsewhere comes back still holding the
    /// site: reconciliation backs its copy up (a `stale_copy` backup, never restorable) and removes
    /// it after the grace; the host stops serving it and the site lives on where it was restored.
    func staleCopy() async throws {
        let sites = try await client.sites().filter { $0.state == "active" && $0.domain.hasPrefix("drain") }
        let site = try #require(sites.first)
        let away = try await host(of: site.id)
        let elsewhere = try #require(harness.hosts.first { $0 !== away })
        let backup = try await client.createBackup(site: site.id)
        let taken = try await coordinator.waitForTask(try #require(backup.taskId), timeout: .seconds(60))
        #expect(taken.state == "succeeded", "\(taken.message ?? "")")

        await away.stopAgent()
        let restored = try await coordinator.waitForTask(
            try await client.restoreBackup(site: site.id, backup: backup.id, agentID: elsewhere.agentID?.description).id,
            timeout: .seconds(60))
        #expect(restored.state == "succeeded", "\(restored.message ?? "")")
        #expect(try await client.site(site.id).agentId == elsewhere.agentID?.description)
        try await waitServes(elsewhere, site.domain)

        // Back, it reports its inventory: the copy goes once the grace has passed.
        try away.startAgent()
        try await harness.waitOnline([away], timeout: .seconds(60))
        let copy = away.sitesRoot.appendingPathComponent(site.domain).path
        let staleBackup = """
            SELECT count(*) FROM backups WHERE site_id = '\(site.id)' AND purpose = 'stale_copy' AND state = 'succeeded'
            """
        try await coordinator.eventually("\(away.name) backs up and removes its copy of \(site.domain)", timeout: .seconds(60)) {
            try await TestDatabase.count(staleBackup, dataDirectory: coordinator.dataDirectory) == 1
                && !FileManager.default.fileExists(atPath: copy)
        }
        #expect(try await harness.fetch(host: away, hostHeader: site.domain).status == 404)
        // The site itself is untouched: still served where it was restored, still placed there.
        try await waitServes(elsewhere, site.domain)
        let after = try await client.site(site.id)
        #expect(after.agentId == elsewhere.agentID?.description && after.state == "active", "\(after)")
    }
}

/// A client that resolves `name` through PowerDNS and fetches the site from the address it got,
/// every 20 ms, as a browser whose resolver honours a 1 s TTL would.
private final class ClientLoop: Sendable {
    let name: String
    let domain: String
    let body: String
    let pdns: PowerDNSServer
    private let state = Mutex(State())

    private struct State {
        var stopped = false
        var requests = 0
        var failures: [String] = []
        var answeredBy: Set<String> = []
    }

    init(name: String, domain: String, body: String, pdns: PowerDNSServer) {
        self.name = name
        self.domain = domain
        self.body = body
        self.pdns = pdns
    }

    func stop() { state.withLock { $0.stopped = true } }

    var results: (Int, [String], Set<String>) { state.withLock { ($0.requests, $0.failures, $0.answeredBy) } }

    func run() async throws {
        let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup)
        defer { _ = client.shutdown() }
        while !state.withLock({ $0.stopped }) {
            let outcome = await once(client)
            state.withLock { state in
                state.requests += 1
                switch outcome {
                case .success(let address): state.answeredBy.insert(address)
                case .failure(let error): state.failures.append("\(Date().timeIntervalSince1970): \(error)")
                }
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    private func once(_ client: HTTPClient) async -> Result<String, CHOMError> {
        do {
            let answer = try await pdns.query(name)
            guard answer.status == "NOERROR", let address = answer.values.first else {
                return .failure(CHOMError(.unavailable, "\(name): \(answer)"))
            }
            var request = HTTPClientRequest(url: "http://\(address)/")
            request.headers.replaceOrAdd(name: "Host", value: domain)
            let response = try await client.execute(request, timeout: .seconds(2))
            let bytes = try await response.body.collect(upTo: 1 << 20)
            let text = String(buffer: bytes)
            guard response.status.code == 200, text == body else {
                return .failure(CHOMError(.unavailable, "\(address): \(response.status.code) \(text.prefix(60))"))
            }
            return .success(address)
        } catch {
            return .failure(CHOMError(.unavailable, "\(error)"))
        }
    }
}
