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

/// `chom-bench fleet [--agents 1000] [--tasks 5000] [--rate 1000] [--seconds 10] [--concurrency 64] [--idle-seconds 30]`:
/// a coordinator (this process, with its throwaway PostgreSQL) and `--agents` agents over real
/// mutual TLS on loopback (`FleetAgents`, another process: the agent's session code, no hosting).
///
/// 1. Throughput: `--tasks` pings queued through the admin API (`POST /v1/agents/{agent}/ping`,
///    `--concurrency` at a time, round robin over the agents, from a load generator in a process of
///    its own: `FleetLoad`), end to end: queued and audited,
///    sealed, sent, opened, journaled, answered, recorded and audited. Results per second.
/// 2. Latency at a fixed rate: `--rate` pings per second for `--seconds`; p50/p99 of queued →
///    result recorded, from the coordinator's own timestamps.
/// 3. The peer, in the same run: `pgbench` on the same PostgreSQL running the same statements per
///    task (queue with its audit entry staged, the chaining transaction, claim with the agent's next
///    sequence, result with its audit entry staged, the chaining transaction) on copies of the
///    tables, at the same concurrency.
/// The coordinator's RSS (peak) and CPU (user + system over the phases' wall time) are this
/// process's: the coordinator, and the bench's own polls of PostgreSQL for the results (every 20 ms).
/// The load generator's and the agents' CPU are printed apart. Figures, not assertions.
enum FleetBench {
    static func main(_ arguments: [String]) async throws {
        var options = Options(arguments)
        let agents = Int(try options.optionalValue("--agents") ?? "1000") ?? 1000
        let tasks = Int(try options.optionalValue("--tasks") ?? "5000") ?? 5000
        let rate = Int(try options.optionalValue("--rate") ?? "1000") ?? 1000
        let seconds = Int(try options.optionalValue("--seconds") ?? "10") ?? 10
        let concurrency = Int(try options.optionalValue("--concurrency") ?? "64") ?? 64
        let idleSeconds = Int(try options.optionalValue("--idle-seconds") ?? "30") ?? 30
        try options.finish()
        guard agents >= 1, tasks >= 1, rate >= 1, seconds >= 1, concurrency >= 1, idleSeconds >= 1 else {
            throw ChildFailure(description: "fleet: every number must be at least 1")
        }
        print("machine: \(BackupBench.machine())")
        let work = try TemporaryDirectory.make(prefix: "chom-bench-fleet")
        defer { TemporaryDirectory.remove(work) }

        try await TestCoordinator.with(configure: { configuration in
            configuration.agents.heartbeatIntervalSeconds = 10
            configuration.agents.offlineGraceSeconds = 60
            configuration.dispatch.pollIntervalSeconds = 2
        }) { coordinator in
            let pid = try await FleetAgents.launch(agents, for: coordinator, work: work)
            do {
                try await run(
                    coordinator, agentsPID: pid, agents: agents, tasks: tasks, rate: rate, seconds: seconds, concurrency: concurrency,
                    idleSeconds: idleSeconds, log: work.appendingPathComponent("agents.log"))
            } catch {
                await BackgroundServer.stop(pid, grace: .seconds(5))
                throw error
            }
            await BackgroundServer.stop(pid, grace: .seconds(5))
        }
    }

    static func run(
        _ coordinator: TestCoordinator, agentsPID: Int32, agents: Int, tasks: Int, rate: Int, seconds: Int, concurrency: Int, idleSeconds: Int = 30,
        log: URL
    ) async throws {
        let data = coordinator.dataDirectory
        let idleRSS = memory().rss
        let connectStart = ContinuousClock.now
        let ids = try await FleetAgents.online(agents, data: data, timeout: .seconds(900), log: log)
        print("\(agents) agents enrolled and connected over mutual TLS in \(format(connectStart.duration(to: .now)))")
        let connectedRSS = memory().rss
        print(String(format: "coordinator RSS: %.0f MB with no agent, %.0f MB with %d streams (%.0f KB a stream)",
            idleRSS, connectedRSS, agents, (connectedRSS - idleRSS) * 1024 / Double(agents)))
        let work = log.deletingLastPathComponent()
        // What the connected fleet costs before any task: heartbeats, dispatch polls, the leader's loops.
        // Long enough (30 s by default) that the tail of the connections' first minutes (inventories,
        // sealing keys) does not read as idle cost: 5 s right after connecting read 0.37 cores, 90 s 0.07.
        let idleUsage = Usage()
        let idleStart = ContinuousClock.now
        try await Task.sleep(for: .seconds(idleSeconds))
        let idleCPU = idleUsage.seconds() / inSeconds(idleStart.duration(to: .now))
        let usage = Usage()
        let (postgresStart, agentsStart) = (OtherCPU.postgres(data: data), OtherCPU.seconds(of: agentsPID))

        // 1. Throughput. The load generator is a process of its own (`FleetLoad`): its CPU is not the coordinator's.
        let throughputStart = ContinuousClock.now
        let burst = try await FleetLoad.run(
            url: coordinator.apiURL, token: coordinator.operatorToken, agents: ids,
            mode: ["--tasks", "\(tasks)", "--concurrency", "\(concurrency)"], work: work, name: "load-throughput")
        let queuedIn = throughputStart.duration(to: .now)
        try await waitAnswered(tasks, data: data, timeout: .seconds(600))
        let throughputTime = throughputStart.duration(to: .now)
        let throughput = Double(tasks) / inSeconds(throughputTime)

        // 2. Latency at a fixed rate.
        let total = rate * seconds
        let pacedLoad = try await FleetLoad.run(
            url: coordinator.apiURL, token: coordinator.operatorToken, agents: ids,
            mode: ["--rate", "\(rate)", "--seconds", "\(seconds)"], work: work, name: "load-paced")
        let paced = Duration.milliseconds(Int64(pacedLoad.wall * 1000))
        try await waitAnswered(tasks + total, data: data, timeout: .seconds(600))
        let latencies: [Double] = try await TestDatabase.withClient(dataDirectory: data) { client in
            let wanted = pacedLoad.ids.compactMap { UUID(uuidString: $0) }
            var values: [Double] = []
            let rows = try await client.query("""
                SELECT extract(epoch FROM (finished_at - created_at))::float8 FROM tasks
                WHERE id = ANY(\(wanted)) AND state = 'succeeded'
                """)
            for try await value in rows.decode(Double.self) { values.append(value) }
            return values.sorted()
        }
        let (rss, peak) = memory()
        let phases = inSeconds(throughputStart.duration(to: .now))
        let cpu = usage.seconds() / phases
        let postgresCPU = max(0, OtherCPU.postgres(data: data) - postgresStart) / phases
        let agentsCPU = (OtherCPU.seconds(of: agentsPID) - agentsStart) / phases
        let loadCPU = (burst.cpu + pacedLoad.cpu) / phases

        // 3. The peer: pgbench, the same statements per task.
        let peer = try await pgbench(data: data, agents: ids, clients: min(concurrency, 16), transactions: tasks, seconds: seconds)

        print(String(repeating: "-", count: 100))
        print("throughput: \(tasks) pings queued in \(format(queuedIn)), all answered in \(format(throughputTime))")
        print("rate phase: \(total) pings paced at \(rate)/s, queued in \(format(paced)) (\(String(format: "%.0f", Double(total) / inSeconds(paced)))/s achieved), \(latencies.count) answered")
        print(String(repeating: "-", count: 100))
        print("| measure | CHOM | peer | ratio |")
        print("|---|---|---|---|")
        if let peer {
            print(String(format: "| results per second (end to end) | %.0f | pgbench, same statements: %.0f | %.2f |", throughput, peer, throughput / peer))
        } else {
            print(String(format: "| results per second (end to end) | %.0f | pgbench not found | - |", throughput))
        }
        BenchSummary.atLeast(
            "fleet", "tasks end to end/s, \(agents) agents", chom: String(format: "%.0f/s", throughput),
            peer: peer.map { String(format: "pgbench, same statements: %.0f/s", $0) } ?? "pgbench not found",
            ratio: peer.map { throughput / $0 }, bound: 0.5)
        if !latencies.isEmpty {
            let p50 = latencies[latencies.count / 2] * 1000
            let p99 = latencies[min(latencies.count - 1, latencies.count * 99 / 100)] * 1000
            print(String(format: "| latency at %d/s, p50 | %.1f ms | goal: p99 ≤ 20 ms | - |", rate, p50))
            print(String(format: "| latency at %d/s, p99 | %.1f ms | goal: ≤ 20 ms | %.2f |", rate, p99, p99 / 20))
            BenchSummary.record(BenchRatio(
                bench: "fleet", measure: "task latency p99 at \(rate)/s", chom: String(format: "%.1f ms", p99),
                peer: String(format: "p50 %.1f ms", p50), ratio: p99 / 20, goal: "≤ 20 ms", met: p99 <= 20))
        }
        print(String(format: "| coordinator RSS (now / peak) | %.0f / %.0f MB | goal: ≤ 200 MB | %.2f |", rss, peak, peak / 200))
        print(String(format: "| coordinator CPU (cores, over the phases) | %.2f | of %d | - |", cpu, ProcessInfo.processInfo.activeProcessorCount))
        print(String(format: "| PostgreSQL CPU (cores, over the phases) | %.2f | of %d | - |", postgresCPU, ProcessInfo.processInfo.activeProcessorCount))
        print(String(format: "| agents' process CPU (cores, over the phases) | %.2f | of %d | - |", agentsCPU, ProcessInfo.processInfo.activeProcessorCount))
        print(String(format: "| load generator's CPU (cores, over the phases) | %.2f | of %d | - |", loadCPU, ProcessInfo.processInfo.activeProcessorCount))
        print(String(format: "| coordinator CPU (cores, %d agents connected, idle) | %.2f | of %d | - |", agents, idleCPU, ProcessInfo.processInfo.activeProcessorCount))
    }

    /// Polls until `count` pings have a result.
    static func waitAnswered(_ count: Int, data: URL, timeout: Duration) async throws {
        let start = ContinuousClock.now
        while try await TestDatabase.count(
            "SELECT count(*)::int8 FROM tasks WHERE kind = 'ping' AND state IN ('succeeded', 'failed')", dataDirectory: data) < count
        {
            if start.duration(to: .now) > timeout { throw ChildFailure(description: "pings unanswered after \(timeout)") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Tasks per second of `pgbench` running, per task, what the coordinator runs for a ping, on
    /// copies of the tables (the real audit chain stays intact); nil without pgbench. Each audit
    /// entry is staged with its change and chained right after by a transaction under the append
    /// lock that takes whatever is staged, as `AuditLog.chainPending` does (in one statement here,
    /// where the coordinator hashes each entry in Swift).
    static func pgbench(data: URL, agents: [String], clients: Int, transactions: Int, seconds: Int) async throws -> Double? {
        guard let binary = PgBench.binary else { return nil }
        for statement in [
            "CREATE TABLE bench_tasks (LIKE tasks INCLUDING DEFAULTS INCLUDING INDEXES)",
            "CREATE TABLE bench_audit (LIKE audit_entries INCLUDING DEFAULTS INCLUDING INDEXES)",
            "CREATE TABLE bench_pending (LIKE audit_pending INCLUDING DEFAULTS INCLUDING INDEXES)",
            "CREATE TABLE bench_agents AS SELECT id, 0::int8 AS next_sequence, row_number() OVER (ORDER BY id) AS n FROM agents",
            "CREATE UNIQUE INDEX ON bench_agents (n)",
            """
            INSERT INTO bench_audit (sequence, time, actor, action, target, request_id, source_address, details, previous_hash, hash)
                VALUES (0, now(), 'bench', 'bench.start', 'bench', 'bench', '', '{}', '\\x00', '\\x00')
            """,
        ] {
            try await TestDatabase.execute(statement, dataDirectory: data)
        }
        let script = data.appendingPathComponent("bench-task.sql")
        // The chaining transaction, after each write's commit (`AuditLog.chainPending`).
        let chain = """
            BEGIN;
            SELECT pg_advisory_xact_lock(4242);
            SELECT * FROM bench_pending ORDER BY id LIMIT 500;
            SELECT sequence, hash FROM bench_audit ORDER BY sequence DESC LIMIT 1;
            WITH moved AS (DELETE FROM bench_pending RETURNING id, time, actor, action, target, request_id, source_address, details)
            INSERT INTO bench_audit (sequence, time, actor, action, target, request_id, source_address, details, previous_hash, hash)
                SELECT (SELECT max(sequence) FROM bench_audit) + row_number() OVER (ORDER BY id), time, actor, action, target,
                    request_id, source_address, details, sha256('a'), sha256('b') FROM moved;
            COMMIT;
            """
        try Data("""
            \\set n random(1, \(agents.count))
            BEGIN;
            INSERT INTO bench_tasks (id, agent_id, kind, payload, state, max_attempts, created_at, updated_at)
                SELECT gen_random_uuid(), id, 'ping', '\\x0a00', 'queued', 5, now(), now() FROM bench_agents WHERE n = :n
                RETURNING id AS task \\gset
            INSERT INTO bench_pending (time, actor, action, target, request_id, source_address, details)
                VALUES (now(), 'bench', 'agent.ping', 'agent', 'bench', '', '{}');
            COMMIT;
            \(chain)
            BEGIN;
            UPDATE bench_agents SET next_sequence = next_sequence + 1 WHERE n = :n RETURNING next_sequence;
            UPDATE bench_tasks SET state = 'sent', sequence = 1, envelope = '\\x0a00', attempts = attempts + 1,
                sent_at = now(), updated_at = now() WHERE id = ':task';
            COMMIT;
            BEGIN;
            SELECT * FROM bench_tasks WHERE id = ':task' FOR UPDATE;
            UPDATE bench_tasks SET state = 'succeeded', result_message = 'pong', finished_at = now(), updated_at = now()
                WHERE id = ':task';
            INSERT INTO bench_pending (time, actor, action, target, request_id, source_address, details)
                VALUES (now(), 'bench', 'task.succeeded', 'task', 'bench', '', '{}');
            COMMIT;
            \(chain)

            """.utf8).write(to: script)
        let socket = data.appendingPathComponent("postgres").path
        let log = data.appendingPathComponent("pgbench.log").path
        return try PgBench.tps(
            binary: binary, script: script.path, socket: socket, username: "chom", database: "postgres", clients: clients,
            length: .transactionsPerClient(transactions / clients), log: log)
    }

    static func memory() -> (rss: Double, peak: Double) {
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        func kilobytes(_ key: String) -> Double {
            guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix(key) }) else { return 0 }
            return Double(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "0") ?? 0
        }
        return (kilobytes("VmRSS:") / 1024, kilobytes("VmHWM:") / 1024)
    }

    static func inSeconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    static func format(_ duration: Duration) -> String { String(format: "%.2f s", inSeconds(duration)) }

    /// A value shared by the phases' concurrent tasks.
    final class Shared<Value: Sendable>: Sendable {
        let value: Mutex<Value>
        init(_ initial: Value) { value = Mutex(initial) }
    }

    /// CPU seconds (user + system) of other processes, read from /proc: the agents' process, and
    /// this run's PostgreSQL (its postmaster and the processes it forked; a backend that exits
    /// meanwhile takes its share with it).
    enum OtherCPU {
        static let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))

        /// (parent pid, CPU seconds) of `pid`.
        static func stat(of pid: Int32) -> (parent: Int32, seconds: Double)? {
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { return nil }
            // After the command: state (field 3), ppid (4), …, utime (14), stime (15).
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 13, let parent = Int32(fields[1]), let user = Double(fields[11]),
                let system = Double(fields[12])
            else { return nil }
            return (parent, (user + system) / ticks)
        }

        static func seconds(of pid: Int32) -> Double { stat(of: pid)?.seconds ?? 0 }

        /// The cluster under `data` (the coordinator's data directory): its postmaster's pid is
        /// the first line of `postgres/data/postmaster.pid`.
        static func postgres(data: URL) -> Double {
            let file = data.appendingPathComponent("postgres/data/postmaster.pid").path
            guard let text = try? String(contentsOfFile: file, encoding: .utf8),
                let postmaster = Int32(text.split(separator: "\n").first ?? "")
            else { return 0 }
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
            return entries.compactMap { Int32($0) }.reduce(0) { total, pid in
                guard let stat = stat(of: pid), pid == postmaster || stat.parent == postmaster else { return total }
                return total + stat.seconds
            }
        }
    }

    /// This process's CPU seconds since it was made.
    final class Usage: Sendable {
        let start = Usage.now()
        static func now() -> Double {
            var usage = rusage()
            getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
            return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6 + Double(usage.ru_stime.tv_sec)
                + Double(usage.ru_stime.tv_usec) / 1e6
        }
        func seconds() -> Double { Usage.now() - start }
    }
}
