import AsyncHTTPClient
import CHOMAPI
import CHOMCore
import CHOMScheduler
import CHOMTesting
import Foundation
import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// `chom-bench agent [--sites 200] [--requests 20] [--scrapes 50] [--idle-seconds 30]`: as root, the
/// agent's memory and its `/metrics` scrape against prometheus-node-exporter, in the same run.
///
/// The agent is the real `chom-agent` process (`$CHOM_AGENT_BINARY`, the release build beside
/// chom-bench) on one host of the namespace harness, enrolled over mutual TLS, hosting with its own
/// nginx. node_exporter runs beside it on loopback with its default collectors.
/// 1. Idle: both processes' VmRSS after `--idle-seconds` with nothing asked of them (the agent
///    enrolled and connected, no site).
/// 2. `--sites` sites created through the admin API and deployed (a one-page release each), then
///    `--requests` requests to each through nginx, so every site's access log has lines to count.
/// 3. `--scrapes` scrapes of each, alternating; the median time of a scrape and VmRSS after them.
/// Prints the agent's memory by mapping (`/proc/PID/smaps`: heap, other anonymous, the binary,
/// each library) so the note can say where its megabytes go. Figures, not assertions.
enum AgentBench {
    struct Configuration {
        var sites = 200
        var requests = 20
        var scrapes = 50
        var idleSeconds = 30
    }

    static func main(_ arguments: [String]) async throws {
        var options = Options(arguments)
        var configuration = Configuration()
        configuration.sites = Int(try options.optionalValue("--sites") ?? "200") ?? 200
        configuration.requests = Int(try options.optionalValue("--requests") ?? "20") ?? 20
        configuration.scrapes = Int(try options.optionalValue("--scrapes") ?? "50") ?? 50
        configuration.idleSeconds = Int(try options.optionalValue("--idle-seconds") ?? "30") ?? 30
        try options.finish()
        guard configuration.sites >= 1, configuration.requests >= 1, configuration.scrapes >= 1, configuration.idleSeconds >= 0
        else { throw ChildFailure(description: "agent: --sites, --requests and --scrapes at least 1") }
        if let reason = NamespaceHarness.unavailableReason { throw ChildFailure(description: reason) }
        guard let exporter = NodeExporter.binary else {
            throw ChildFailure(description: "prometheus-node-exporter is not installed (apt-get install -y prometheus-node-exporter)")
        }
        print("machine: \(BackupBench.machine())")
        let work = try TemporaryDirectory.make(prefix: "chom-bench-agent")
        defer { TemporaryDirectory.remove(work) }
        let node = try await NodeExporter.start(binary: exporter, work: work)
        defer { node.stop() }

        // 200 small static sites on one 2-core host: requests small enough that the scheduler
        // places them all (the defaults reserve a tenth of a core each).
        try await NamespaceHarness.with(hosts: 1, configure: { configuration in
            configuration.fleet.siteRequests.static = Resources(cpuMillis: 5, memoryBytes: 16 << 20, diskBytes: 16 << 20, sites: 1)
        }, agentArguments: ["--max-sites", "\(configuration.sites + 10)"]) { harness in
            let host = harness.hosts[0]
            guard let pid = host.agentPID else { throw ChildFailure(description: "the agent did not start") }
            let agentMetrics = "http://\(host.address):9464/metrics"
            let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup)
            do {
                try await measure(
                    configuration, harness: harness, host: host, agentPID: pid, agentMetrics: agentMetrics, node: node,
                    client: client)
                try await client.shutdown()
            } catch {
                try? await client.shutdown()
                throw error
            }
        }
    }

    static func measure(
        _ configuration: Configuration, harness: NamespaceHarness, host: NamespaceHost, agentPID: pid_t,
        agentMetrics: String, node: NodeExporter, client: HTTPClient
    ) async throws {
        print("agent: \(try NamespaceHost.agentBinary()) (pid \(agentPID)); node_exporter: \(node.binary) (pid \(node.pid))")
        // 1. Idle.
        try await Task.sleep(for: .seconds(configuration.idleSeconds))
        let idle = (agent: ProcMemory.rssMB(agentPID), node: ProcMemory.rssMB(node.pid))
        print(String(format: "idle %d s: agent %.1f MB, node_exporter %.1f MB", configuration.idleSeconds, idle.agent, idle.node))
        print("agent memory by mapping, idle:")
        print(ProcMemory.breakdown(agentPID))

        // 2. Sites, deployed, with traffic.
        let start = ContinuousClock.now
        let domains = try await deploySites(configuration.sites, harness: harness)
        print("\(domains.count) sites created and deployed in \(FleetBench.format(start.duration(to: .now)))")
        let trafficStart = ContinuousClock.now
        try await traffic(domains, requests: configuration.requests, address: host.address, client: client)
        print("\(domains.count * configuration.requests) requests through nginx in \(FleetBench.format(trafficStart.duration(to: .now)))")

        // 3. Scrapes, alternating. The first agent scrape counts every new access log line.
        let first = try await scrape(agentMetrics, client: client)
        print(String(format: "first agent scrape after the traffic: %.2f ms, %d bytes, %d series",
            first.milliseconds, first.bytes, first.series))
        var agentTimes: [Double] = [], nodeTimes: [Double] = []
        var agentShape = first, nodeShape = first
        for _ in 0..<configuration.scrapes {
            agentShape = try await scrape(agentMetrics, client: client)
            agentTimes.append(agentShape.milliseconds)
            nodeShape = try await scrape(node.url, client: client)
            nodeTimes.append(nodeShape.milliseconds)
        }
        let sitesSeen = Set(agentShape.siteLabels)
        guard sitesSeen.count >= domains.count else {
            throw ChildFailure(description: "the agent's /metrics shows \(sitesSeen.count) sites of \(domains.count)")
        }
        let scraped = (agent: ProcMemory.rssMB(agentPID), node: ProcMemory.rssMB(node.pid))
        let agentMedian = median(agentTimes), nodeMedian = median(nodeTimes)
        print("agent memory by mapping, \(domains.count) sites after \(configuration.scrapes) scrapes:")
        print(ProcMemory.breakdown(agentPID))
        print(String(repeating: "-", count: 100))
        print("| measure | chom-agent | node_exporter | ratio |")
        print("|---|---|---|---|")
        print(String(format: "| VmRSS, idle %d s (no site) | %.1f MB | %.1f MB | %.2f |", configuration.idleSeconds, idle.agent, idle.node, idle.agent / idle.node))
        print(String(format: "| VmRSS after %d scrapes (%d sites) | %.1f MB | %.1f MB | %.2f |", configuration.scrapes, domains.count, scraped.agent, scraped.node, scraped.agent / scraped.node))
        print(String(format: "| scrape time, median of %d | %.2f ms (%d bytes, %d series) | %.2f ms (%d bytes, %d series) | %.2f |",
            configuration.scrapes, agentMedian, agentShape.bytes, agentShape.series, nodeMedian, nodeShape.bytes, nodeShape.series,
            agentMedian / nodeMedian))
        BenchSummary.atMost(
            "agent", "VmRSS, idle \(configuration.idleSeconds) s", chom: String(format: "%.1f MB", idle.agent),
            peer: String(format: "node_exporter: %.1f MB", idle.node), ratio: idle.agent / idle.node, bound: 1.0)
        BenchSummary.record(BenchRatio(
            bench: "agent", measure: "VmRSS after \(configuration.scrapes) scrapes, \(domains.count) sites",
            chom: String(format: "%.1f MB", scraped.agent), peer: String(format: "node_exporter: %.1f MB", scraped.node),
            ratio: scraped.agent / scraped.node, goal: "", met: nil))
        BenchSummary.atMost(
            "agent", "scrape time with \(domains.count) sites (median)", chom: String(format: "%.2f ms", agentMedian),
            peer: String(format: "node_exporter: %.2f ms", nodeMedian), ratio: agentMedian / nodeMedian, bound: 1.0)
    }

    /// Creates `count` sites in the test tenant and deploys a one-page release to each, 2 at a time.
    /// Each site's steps are asked again as a whole when an exchange with the coordinator broke off
    /// (the admin client gives up on a slow answer under load); a create that went through answers
    /// 409 the second time, and the site is then ours.
    static func deploySites(_ count: Int, harness: NamespaceHarness) async throws -> [String] {
        let coordinator = harness.coordinator
        let tenant = try await coordinator.testTenant()
        let archive = try TestCoordinator.releaseArchive(["public/index.html": "<h1>bench</h1>\n"])
        let domains = (1...count).map { "site\($0).agent-bench.test" }
        try await withThrowingTaskGroup(of: Void.self) { group in
            var next = domains.makeIterator()
            func add(_ domain: String) {
                group.addTask {
                    try await retrying {
                        do {
                            _ = try await coordinator.client.createSite(tenantID: tenant, domain: domain)
                        } catch AdminClientError.problem(let problem) where problem.status == 409 {}
                        let release = try await coordinator.client.uploadRelease(site: domain, archive: archive)
                        let task = try await coordinator.client.deploy(site: domain, releaseID: release.id)
                        let done = try await coordinator.waitForTask(task.id, timeout: .seconds(600))
                        guard done.state == "succeeded" else {
                            throw ChildFailure(description: "deploy of \(domain): \(done.state) \(done.message ?? "")")
                        }
                    }
                }
            }
            for _ in 0..<2 { if let domain = next.next() { add(domain) } }
            while try await group.next() != nil { if let domain = next.next() { add(domain) } }
        }
        return domains
    }

    /// `body`, again (up to 5 times, a second apart) when the exchange with the coordinator broke off:
    /// a connection reset under load is the client's to retry, not a result.
    static func retrying<T>(_ body: () async throws -> T) async throws -> T {
        var attempt = 1
        while true {
            do {
                return try await body()
            } catch AdminClientError.transport(let reason) where attempt < 5 {
                print("retrying after a transport error: \(reason)")
                attempt += 1
                try await Task.sleep(for: .seconds(1))
            }
        }
    }

    /// `requests` GETs of `/` to each site through the host's nginx, 16 at a time; every answer must be 200.
    static func traffic(_ domains: [String], requests: Int, address: String, client: HTTPClient) async throws {
        let work = domains.flatMap { domain in Array(repeating: domain, count: requests) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            var next = work.makeIterator()
            func add(_ domain: String) {
                group.addTask {
                    var request = HTTPClientRequest(url: "http://\(address)/")
                    request.headers.replaceOrAdd(name: "Host", value: domain)
                    // A connection nginx closed between two requests (keepalive) resets the next
                    // one: a GET is asked again, up to three times.
                    var attempt = 1
                    while true {
                        do {
                            let response = try await client.execute(request, timeout: .seconds(10))
                            _ = try await response.body.collect(upTo: 1 << 20)
                            guard response.status.code == 200 else {
                                throw ChildFailure(description: "\(domain) answered \(response.status.code)")
                            }
                            return
                        } catch let error where !(error is ChildFailure) && attempt < 3 {
                            attempt += 1
                        }
                    }
                }
            }
            for _ in 0..<16 { if let domain = next.next() { add(domain) } }
            while try await group.next() != nil { if let domain = next.next() { add(domain) } }
        }
    }

    struct Scrape {
        var milliseconds: Double
        var bytes: Int
        var series: Int
        var siteLabels: [Substring]
    }

    /// One GET of a Prometheus endpoint, timed from the request to the last byte.
    static func scrape(_ url: String, client: HTTPClient) async throws -> Scrape {
        let start = ContinuousClock.now
        let response = try await client.execute(HTTPClientRequest(url: url), timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 64 << 20)
        let elapsed = FleetBench.inSeconds(start.duration(to: .now)) * 1000
        guard response.status.code == 200 else { throw ChildFailure(description: "\(url) answered \(response.status.code)") }
        let text = String(buffer: body)
        let lines = text.split(separator: "\n").filter { !$0.hasPrefix("#") }
        let sites = lines.compactMap { line -> Substring? in
            guard let range = line.range(of: "site=\"") else { return nil }
            return line[range.upperBound...].prefix { $0 != "\"" }
        }
        return Scrape(milliseconds: elapsed, bytes: body.readableBytes, series: lines.count, siteLabels: sites)
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.isEmpty ? 0 : sorted[sorted.count / 2]
    }
}
