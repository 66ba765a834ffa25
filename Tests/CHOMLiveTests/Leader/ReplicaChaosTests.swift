import CHOMAPI
import CHOMAgent
import CHOMCoordinator
import CHOMCore
import CHOMStore
import CHOMTesting
import Foundation
import PostgresNIO
import Synchronization
import Testing

/// Faults of the coordinator's side under load: a replica killed with SIGKILL while it dispatches,
/// and PostgreSQL restarted while every replica works. Three `chom-coordinator serve` processes:
/// `a` takes the API calls, `b` and `c` hold the streams of three in-process agents dialing both. Each cycle queues its pings through `a`, and the fault
/// strikes once 30 % of them are answered, with the rest queued, sent or running.
///
/// The witnesses are the agents' own: the execution ledger (how many times each task started) and
/// the journal on disk (one final entry per task). No task is lost (every queued ping succeeds),
/// none runs twice. 3 cycles of 1,000 pings per fault; `CHOM_CHAOS_FULL=1` runs 20 cycles of 10,000.
@Suite("Chaos: coordinator replicas killed during dispatch, PostgreSQL restarted under load")
struct ReplicaChaosTests {
    static let full = ProcessInfo.processInfo.environment["CHOM_CHAOS_FULL"] == "1"

    @Test("kill -9 of the replica holding the streams, and a PostgreSQL restart, lose no task and run none twice")
    func killAndRestart() async throws {
        let cycles = Self.full ? 20 : 3
        let tasks = Self.full ? 10_000 : 1_000
        try await LeaderReplicas.with { fleet in
            // An in-process replica makes the keys and the operator, and stops; then every replica is
            // a process, which the test can kill.
            let seed = try await fleet.start("seed")
            try await seed.stopGracefully()
            let configuration = """
                {"agents": {"heartbeatIntervalSeconds": 1, "offlineGraceSeconds": 5, "allowInternalAddresses": true},
                 "dispatch": {"pollIntervalSeconds": 0.5}, "fleet": {"failoverEnabled": false},
                 "leader": {"pollIntervalSeconds": 0.5}, "auth": {"bcryptCost": 4}}
                """
            let a = try ReplicaProcess(name: "a", fleet: fleet, configuration: configuration)
            let b = try ReplicaProcess(name: "b", fleet: fleet, configuration: configuration)
            let c = try ReplicaProcess(name: "c", fleet: fleet, configuration: configuration)
            defer {
                a.kill9()
                b.kill9()
                c.kill9()
            }
            try await a.start()
            try await b.start()
            try await c.start()
            let client = try await AgentReplicaTests.operatorClient(api: a.api)

            let state = try TemporaryDirectory.make(prefix: "chom-chaos-replicas")
            defer { TemporaryDirectory.remove(state) }
            var runtimes: [AgentRuntime] = []
            let created = try await client.createJoinToken(CreateJoinTokenRequest(description: "chaos", maxUses: 3))
            var agentIDs: [AgentID] = []
            for index in 0..<3 {
                let directory = state.appendingPathComponent("agent-\(index)")
                let agent = AgentReplicaTests.agent(in: directory, dialing: [b.agents, c.agents])
                let logger = TestLogging.logger("chom.test.agent")
                agentIDs.append(try await AgentRuntime.enroll(
                    configuration: agent, host: "127.0.0.1", port: a.enroll, token: created.token,
                    caSHA256: created.caSHA256, name: "chaos-\(index)", logger: logger
                ).agentID)
                runtimes.append(AgentRuntime(configuration: agent, logger: logger))
            }
            try await fleet.withStore { store in
            let world = ReplicaChaosWorld(
                fleet: fleet, store: store, client: client, api: a, replicas: [b, c], agents: agentIDs,
                runtimes: runtimes)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for runtime in runtimes { group.addTask { try await runtime.run() } }
                defer { group.cancelAll() }
                var rows: [ReplicaChaosWorld.Row] = []
                rows.append(try await world.run(fault: "kill -9 of the replica holding the most streams", cycles: cycles, tasks: tasks) {
                    try await world.killHolder()
                })
                rows.append(try await world.run(fault: "PostgreSQL restarted (fast)", cycles: Self.full ? 5 : 1, tasks: tasks) {
                    try await world.restartPostgres()
                })
                print("chaos on the coordinator's side (3 replicas, 3 agents):")
                print("  | fault | cycles | tasks | lost | doubled | re-sent | API calls refused | streams back (median, max) | rest of the cycle answered after the fault (median, max) |")
                for row in rows { print("  \(row.line)") }
                for runtime in runtimes { await runtime.beginGracefulShutdown() }
                try await group.waitForAll()
            }
            }
        }
    }
}

struct ReplicaChaosWorld: Sendable {
    let fleet: LeaderReplicas
    /// The test's own pool on the fleet's database.
    let store: Store
    let client: AdminClient
    /// Replica `a`, which takes the API calls and holds no stream.
    let api: ReplicaProcess
    let replicas: [ReplicaProcess]
    let agents: [AgentID]
    let runtimes: [AgentRuntime]

    struct Row {
        var fault: String
        var cycles = 0
        var tasks = 0
        var lost = 0
        var doubled = 0
        var resent = 0
        var refused = 0
        var recoveries: [Duration] = []
        /// From the fault to the last of the cycle's pings answered.
        var drains: [Duration] = []

        var line: String {
            let sorted = recoveries.sorted()
            let median = sorted.isEmpty ? "-" : "\(sorted[sorted.count / 2])"
            let max = sorted.last.map { "\($0)" } ?? "-"
            let drained = drains.sorted()
            let drainMedian = drained.isEmpty ? "-" : "\(drained[drained.count / 2])"
            return "| \(fault) | \(cycles) | \(tasks) | \(lost) | \(doubled) | \(resent) | \(refused) | \(median), \(max) | \(drainMedian), \(drained.last.map { "\($0)" } ?? "-") |"
        }
    }

    /// `cycles` times: queue `tasks` pings through replica `a` (16 at a time), strike with
    /// `fault` once 30 % are answered, then wait for every queued ping and check each against the
    /// agents' ledgers and journals. `fault` returns when the agents' streams are back.
    func run(fault name: String, cycles: Int, tasks: Int, _ fault: @escaping @Sendable () async throws -> Void) async throws -> Row {
        var row = Row(fault: name)
        for cycle in 1...cycles {
            try await fleet.eventually("every agent's stream up", timeout: .seconds(60)) {
                try await streams() == agents.count
            }
            let queued = Locked<[String]>([])
            let refused = Locked(0)
            let next = Locked(0)
            let recovery = Locked<Duration?>(nil)
            let struckAt = Locked<ContinuousClock.Instant?>(nil)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<16 {
                    group.addTask { [client, agents] in
                        while true {
                            let index = next.withLock { value -> Int in
                                defer { value += 1 }
                                return value
                            }
                            guard index < tasks else { return }
                            // Refused with an error while the database restarts: the caller knows, and
                            // asks again.
                            let deadline = ContinuousClock.now + .seconds(120)
                            while true {
                                do {
                                    let task = try await client.ping(agent: agents[index % agents.count].description)
                                    queued.withLock { $0.append(task.id) }
                                    break
                                } catch {
                                    refused.withLock { $0 += 1 }
                                    guard ContinuousClock.now < deadline else { throw error }
                                    try await Task.sleep(for: .milliseconds(100))
                                }
                            }
                        }
                    }
                }
                group.addTask {
                    try await fleet.eventually("30 % of the cycle's pings answered", timeout: .seconds(300)) {
                        try await finished(queued.withLock { $0 }) >= tasks * 3 / 10
                    }
                    let open = queued.withLock { $0.count } - (try await finished(queued.withLock { $0 }))
                    #expect(open > 0, "the fault struck with nothing in flight")
                    let struck = ContinuousClock.now
                    struckAt.withLock { $0 = struck }
                    try await fault()
                    recovery.withLock { $0 = struck.duration(to: .now) }
                }
                try await group.waitForAll()
            }
            let ids = queued.withLock { $0 }
            try await fleet.eventually("every queued ping of cycle \(cycle) answered", timeout: .seconds(600)) {
                try await finished(ids) == ids.count
            }
            if let struck = struckAt.withLock({ $0 }) { row.drains.append(struck.duration(to: .now)) }
            let outcome = try await check(ids)
            row.cycles += 1
            row.tasks += ids.count
            row.lost += outcome.lost
            row.doubled += outcome.doubled
            row.resent += outcome.resent
            row.refused += refused.withLock { $0 }
            if let taken = recovery.withLock({ $0 }) { row.recoveries.append(taken) }
            #expect(outcome.lost == 0, "cycle \(cycle) of \(name): \(outcome.lost) tasks lost: \(outcome.examples)")
            #expect(outcome.doubled == 0, "cycle \(cycle) of \(name): \(outcome.doubled) tasks ran twice: \(outcome.examples)")
        }
        return row
    }

    /// SIGKILL to the replica that holds the most streams, a restart of it, and the wait until the
    /// agents hold their streams again.
    func killHolder() async throws {
        let victim = try #require(try await holder())
        victim.kill9()
        try await fleet.eventually("the agents' streams back on the other replica", timeout: .seconds(60)) {
            try await streams() == agents.count
        }
        try await victim.start()
    }

    /// A fast restart of PostgreSQL under the replicas, and the wait until the agents hold streams
    /// again and every replica answers a database-backed call.
    func restartPostgres() async throws {
        try await fleet.postgres.restartOffPool()
        try await fleet.eventually("the agents' streams back", timeout: .seconds(120)) {
            try await streams() == agents.count
        }
        for replica in [api] + replicas {
            try await fleet.eventually("replica \(replica.name) serves from the database again", timeout: .seconds(60)) {
                let url = replica.apiURL
                let login = try? await AdminClient(baseURL: url, token: nil)
                    .login(email: TestCoordinator.operatorEmail, password: TestCoordinator.operatorPassword)
                guard let token = login?.token else { return false }
                return (try? await AdminClient(baseURL: url, token: token).agents()) != nil
            }
        }
        // The lead comes back: the leader's lock session ended with the server, and no wait on
        // its driver futures outlives that (`BoundedWait`).
        try await fleet.eventually("one leader again", timeout: .seconds(60)) {
            var leaders = 0
            for replica in [api] + replicas where await replica.gauge(MetricName.coordinatorLeader) == 1 { leaders += 1 }
            return leaders == 1
        }
    }

    /// The process replica that holds the most of the agents' streams, if any holds one.
    func holder() async throws -> ReplicaProcess? {
        var best: (ReplicaProcess, Double)?
        for replica in replicas {
            let held = await replica.gauge(MetricName.coordinatorStreams) ?? 0
            if held > 0, held > (best?.1 ?? 0) { best = (replica, held) }
        }
        return best?.0
    }

    func streams() async throws -> Int {
        var total = 0
        for replica in replicas { total += Int(await replica.gauge(MetricName.coordinatorStreams) ?? 0) }
        return total
    }

    func finished(_ ids: [String]) async throws -> Int {
        let rows = try await store.client.query("""
            SELECT count(*)::int8 FROM tasks WHERE id::text = ANY(\(ids)) AND state IN ('succeeded', 'failed')
            """)
        for try await count in rows.decode(Int64.self) { return Int(count) }
        return 0
    }

    struct Outcome {
        var lost = 0
        var doubled = 0
        var resent = 0
        var examples: [String] = []
    }

    /// Each task: succeeded in the database, started exactly once by exactly one agent (the
    /// ledgers), and one final `succeeded` entry in that agent's journal.
    func check(_ ids: [String]) async throws -> Outcome {
        var outcome = Outcome()
        var states: [String: String] = [:]
        var attempts: [String: Int] = [:]
        let rows = try await store.client.query("SELECT id::text, state, attempts FROM tasks WHERE id::text = ANY(\(ids))")
        for try await (id, state, count) in rows.decode((String, String, Int).self) {
            states[id] = state
            attempts[id] = count
        }
        var journals: [String: [JournalEntry]] = [:]
        for runtime in runtimes {
            for entry in try runtime.journalEntries() { journals[entry.taskID.lowercased(), default: []].append(entry) }
        }
        for id in ids {
            let executions = runtimes.reduce(0) { $0 + $1.executions(of: id) }
            let entries = journals[id.lowercased()] ?? []
            if states[id] != "succeeded" || executions == 0 || entries.count != 1 || entries.first?.state != .succeeded {
                outcome.lost += 1
                if outcome.examples.count < 5 {
                    outcome.examples.append("\(id): \(states[id] ?? "missing"), \(executions) runs, journal \(entries.map(\.state))")
                }
            }
            if executions > 1 || entries.count > 1 {
                outcome.doubled += 1
                if outcome.examples.count < 5 { outcome.examples.append("\(id): \(executions) runs") }
            }
            if (attempts[id] ?? 0) > 1 { outcome.resent += 1 }
        }
        return outcome
    }
}

/// A value shared by a cycle's tasks.
private final class Locked<Value: Sendable>: Sendable {
    private let value: Mutex<Value>
    init(_ value: Value) { self.value = Mutex(value) }
    func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result { try value.withLock { try body(&$0) } }
}
