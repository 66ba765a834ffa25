import AsyncHTTPClient
import CHOMAPI
import CHOMCoordinator
import CHOMCore
import CHOMTesting
import Foundation
import PostgresNIO
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// `chom-bench salt [--agents 10] [--seconds 10] [--skip-salt]`: Salt's `test.ping` against CHOM's
/// `ping`, on the same machine, one after the other in the same run.
///
/// 1. Salt: `scripts/salt-bench.sh` (Salt 3008 in a pinned venv, a master and `--agents` minions on
///    loopback in a private network namespace), which prints Salt's returns per second (the best of
///    1–8 jobs in flight) and the median time of one job to all minions.
/// 2. CHOM: a coordinator (this process, its throwaway PostgreSQL) and `--agents` agents over
///    mutual TLS (`FleetAgents`, another process). A job is one ping per agent through the admin
///    API, done when every result is recorded: sealed, sent, opened, journaled, answered, recorded
///    and audited. Jobs one at a time give the job latency; 1–8 jobs in flight give returns per
///    second, the best reported as Salt's is.
/// Figures, not assertions.
enum SaltBench {
    static func main(_ arguments: [String]) async throws {
        var options = Options(arguments)
        let agents = Int(try options.optionalValue("--agents") ?? "10") ?? 10
        let seconds = Int(try options.optionalValue("--seconds") ?? "10") ?? 10
        let skipSalt = options.flag("--skip-salt")
        try options.finish()
        guard agents >= 1, seconds >= 1 else { throw ChildFailure(description: "salt: every number must be at least 1") }
        print("machine: \(BackupBench.machine())")
        let work = try TemporaryDirectory.make(prefix: "chom-bench-salt")
        defer { TemporaryDirectory.remove(work) }

        var salt: [String: Any]?
        if !skipSalt {
            print("Salt: scripts/salt-bench.sh with \(agents) minions, \(seconds) s per configuration (installs Salt on first use)")
            salt = try runSalt(minions: agents, seconds: seconds, log: work.appendingPathComponent("salt.log"))
        }
        let chom = try await runCHOM(agents: agents, seconds: seconds, work: work)

        print(String(repeating: "-", count: 100))
        print("| measure (\(agents) agents / minions) | CHOM ping | Salt test.ping | ratio |")
        print("|---|---|---|---|")
        let saltRate = salt?["returns_per_second"] as? Double
        let saltLatency = salt?["job_latency_median_s"] as? Double
        print(String(
            format: "| returns per second (best of 1–8 jobs in flight) | %.0f | %@ | %@ |", chom.returnsPerSecond,
            saltRate.map { String(format: "%.1f", $0) } ?? "-",
            saltRate.map { String(format: "%.1f×", chom.returnsPerSecond / $0) } ?? "-"))
        print(String(
            format: "| one job to all, median | %.1f ms | %@ | %@ |", chom.jobMedian * 1000,
            saltLatency.map { String(format: "%.0f ms", $0 * 1000) } ?? "-",
            saltLatency.map { String(format: "%.3f", chom.jobMedian / $0) } ?? "-"))
        print(String(format: "| one job to all, p99 | %.1f ms | %@ | - |", chom.jobP99 * 1000,
            (salt?["job_latency_p99_s"] as? Double).map { String(format: "%.0f ms", $0 * 1000) } ?? "-"))
        if let salt {
            print("Salt \(salt["version"] ?? "?"): best mode \(salt["mode"] ?? "?"); goal: CHOM ≥ 100× Salt's returns per second")
        }
        print("CHOM: best with \(chom.bestInFlight) jobs in flight; per mode: \(chom.modes.map { "\($0.0): \(String(format: "%.0f", $0.1))/s" }.joined(separator: ", "))")
    }

    /// `scripts/salt-bench.sh`'s JSON line.
    static func runSalt(minions: Int, seconds: Int, log: URL) throws -> [String: Any] {
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let script = ProcessInfo.processInfo.environment["CHOM_SALT_BENCH"]
            ?? repository.appendingPathComponent("scripts/salt-bench.sh").path
        do {
            _ = try ChildProcess.run([Command(
                argv: ["bash", script],
                environment: ["SALT_BENCH_SECONDS": "\(seconds)", "SALT_BENCH_MINIONS": "\(minions)"], log: log.path)])
        } catch {
            let output = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            throw ChildFailure(description: "\(script) failed: \(error)\n\(output.suffix(3000))")
        }
        let output = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        guard let line = output.split(separator: "\n").last(where: { $0.hasPrefix("{\"tool\"") }),
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
        else { throw ChildFailure(description: "\(script) printed no result: \(output.suffix(3000))") }
        return object
    }

    struct CHOMFigures {
        var returnsPerSecond: Double
        var bestInFlight: Int
        var jobMedian: Double
        var jobP99: Double
        var modes: [(Int, Double)]
    }

    static func runCHOM(agents count: Int, seconds: Int, work: URL) async throws -> CHOMFigures {
        try await TestCoordinator.with(configure: { configuration in
            configuration.agents.heartbeatIntervalSeconds = 10
            configuration.agents.offlineGraceSeconds = 60
            configuration.dispatch.pollIntervalSeconds = 2
        }) { coordinator in
            // The admin API through AsyncHTTPClient (keep-alive), as `fleet-load` drives it: the
            // CLI's URLSession client cost more CPU than the coordinator's side of a ping.
            var configuration = HTTPClient.Configuration()
            configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 8 * count
            let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
            let ping = FleetLoad.Ping(client: http, base: coordinator.apiURL.absoluteString, token: coordinator.operatorToken)
            do {
                let figures = try await measure(ping, coordinator: coordinator, count: count, seconds: seconds, work: work)
                try await http.shutdown()
                return figures
            } catch {
                try? await http.shutdown()
                throw error
            }
        }
    }

    static func measure(
        _ ping: FleetLoad.Ping, coordinator: TestCoordinator, count: Int, seconds: Int, work: URL
    ) async throws -> CHOMFigures {
        do {
            let pid = try await FleetAgents.launch(count, for: coordinator, work: work)
            defer { kill(-pid, SIGKILL) }
            let data = coordinator.dataDirectory
            let ids = try await FleetAgents.online(count, data: data, timeout: .seconds(120), log: work.appendingPathComponent("agents.log"))
            print("CHOM: \(count) agents online over mutual TLS; measuring \(seconds) s per configuration")
            let figures = try await TestDatabase.withClient(dataDirectory: data) { database in
                // Done when every result is recorded, polled by primary key: every 1 ms with one job
                // in flight, every N ms with N, so the polls cost the database (and this process,
                // which is the coordinator's) the same 1,000 queries a second in every mode.
                let job: @Sendable (_ inFlight: Int) async throws -> Void = { inFlight in
                    let queued = try await withThrowingTaskGroup(of: String.self) { group in
                        for id in ids { group.addTask { try await ping(id) } }
                        return try await group.reduce(into: [String]()) { $0.append($1) }
                    }
                    let wanted = queued.compactMap { UUID(uuidString: $0) }
                    while true {
                        let rows = try await database.query(
                            "SELECT count(*)::int8 FROM tasks WHERE id = ANY(\(wanted)) AND state IN ('succeeded', 'failed')")
                        var done = 0
                        for try await value in rows.decode(Int64.self) { done = Int(value) }
                        if done == queued.count { return }
                        try await Task.sleep(for: .milliseconds(inFlight))
                    }
                }
                for _ in 0..<5 { try await job(1) }
                // One job at a time: its latency.
                var latencies: [Double] = []
                let sequentialStart = ContinuousClock.now
                while sequentialStart.duration(to: .now) < .seconds(seconds) {
                    let jobStart = ContinuousClock.now
                    try await job(1)
                    latencies.append(FleetBench.inSeconds(jobStart.duration(to: .now)))
                }
                var modes: [(Int, Double)] = [(1, Double(latencies.count * ids.count) / FleetBench.inSeconds(sequentialStart.duration(to: .now)))]
                for inFlight in [2, 4, 8] {
                    let jobs = FleetBench.Shared(0)
                    let start = ContinuousClock.now
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        for _ in 0..<inFlight {
                            group.addTask {
                                while start.duration(to: .now) < .seconds(seconds) {
                                    try await job(inFlight)
                                    jobs.value.withLock { $0 += 1 }
                                }
                            }
                        }
                        try await group.waitForAll()
                    }
                    modes.append((inFlight, Double(jobs.value.withLock { $0 } * ids.count) / FleetBench.inSeconds(start.duration(to: .now))))
                }
                latencies.sort()
                let best = modes.max { $0.1 < $1.1 }!
                return CHOMFigures(
                    returnsPerSecond: best.1, bestInFlight: best.0, jobMedian: latencies[latencies.count / 2],
                    jobP99: latencies[min(latencies.count - 1, latencies.count * 99 / 100)], modes: modes)
            }
            await BackgroundServer.stop(pid, grace: .seconds(5))
            return figures
        }
    }
}
