import CHOMCoordinator
import CHOMCore
import CHOMStore
import CHOMTesting
import Foundation
import Logging
import PostgresNIO
import Synchronization

/// Coordinators as replicas of one fleet: one throwaway PostgreSQL that each reaches through its
/// `databaseURL` (as separate hosts would), one shared data directory for the keys (as a shared
/// volume would; the first replica creates them before the next starts), every listener on port 0,
/// and a test leader loop per replica that counts its passes and the epochs it ran with.
final class LeaderReplicas: Sendable {
    /// One coordinator and its run, stopped gracefully (as SIGTERM) or by cancellation.
    final class Replica: Sendable {
        let name: String
        let coordinator: Coordinator
        let task: Task<Void, any Error>
        /// The epochs the test loop ran with, one per pass.
        let passes: Passes

        final class Passes: Sendable {
            private let epochs = Mutex<[Int64]>([])
            func append(_ epoch: Int64) { epochs.withLock { $0.append(epoch) } }
            var all: [Int64] { epochs.withLock { $0 } }
        }

        init(name: String, configuration: CoordinatorConfiguration, logger: Logger) {
            self.name = name
            let passes = Passes()
            self.passes = passes
            let loop = LeaderLoop(name: "test.counter", interval: .milliseconds(50)) { epoch in passes.append(epoch) }
            let coordinator = Coordinator(
                configuration: configuration, logger: logger, bootstrapOperatorPassword: TestCoordinator.operatorPassword,
                leaderLoops: [loop])
            self.coordinator = coordinator
            // A handle per replica (not a child of one group), so that each can be stopped alone.
            self.task = Task { try await coordinator.run() }
        }

        var epoch: Int64? { coordinator.leadership.epoch }

        /// The leader gauge as `/metrics` shows it.
        var leaderGauge: Double? { Self.gauge(MetricName.coordinatorLeader, in: coordinator.metrics.exposition()) }
        var epochGauge: Double? { Self.gauge(MetricName.coordinatorLeaderEpoch, in: coordinator.metrics.exposition()) }

        func stopGracefully() async throws {
            await coordinator.triggerGracefulShutdown()
            try await task.value
        }

        func cancel() async {
            task.cancel()
            _ = try? await task.value
        }

        static func gauge(_ name: String, in exposition: String) -> Double? {
            for line in exposition.split(separator: "\n") where line.hasPrefix("\(name) ") {
                return Double(line.dropFirst(name.count + 1).trimmingCharacters(in: .whitespaces))
            }
            return nil
        }
    }

    let directory: URL
    let postgres: EmbeddedPostgres
    let logger: Logger
    private let replicas = Mutex<[Replica]>([])

    var databaseURL: String { "postgres://\(postgres.username)@/\(postgres.database)?host=\(postgres.socketDirectory)" }

    private init(directory: URL, postgres: EmbeddedPostgres, logger: Logger) {
        self.directory = directory
        self.postgres = postgres
        self.logger = logger
    }

    /// Runs `body` with a fresh database; every replica still running afterwards is stopped.
    static func with<Result: Sendable>(_ body: (LeaderReplicas) async throws -> Result) async throws -> Result {
        let directory = try TemporaryDirectory.make(prefix: "chom-lead")
        defer { TemporaryDirectory.remove(directory) }
        var options = EmbeddedPostgres.Options()
        options.disableFsync = true
        let logger = TestLogging.logger("chom.test.leader")
        let postgres = EmbeddedPostgres(directory: directory.appendingPathComponent("pg"), options: options, logger: logger)
        try await postgres.startOffPool()
        defer { postgres.stop(immediate: true) }
        let harness = LeaderReplicas(directory: directory, postgres: postgres, logger: logger)
        do {
            let result = try await body(harness)
            await harness.cancelAll()
            if ProcessInfo.processInfo.environment["CHOM_KEEP_REPLICA_LOGS"] == "1" { keepLogs(of: directory) }
            return result
        } catch {
            await harness.cancelAll()
            keepLogs(of: directory)
            throw error
        }
    }

    /// Copies the replica processes' logs out of the fleet's directory before it is removed (on a
    /// failure, or always with CHOM_KEEP_REPLICA_LOGS=1) and says where; their level is
    /// CHOM_REPLICA_LOG_LEVEL (warning by default).
    static func keepLogs(of directory: URL) {
        let logs = ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).filter { $0.hasSuffix(".log") }
        // Not a TemporaryDirectory: those are removed when the test process exits.
        let kept = URL(fileURLWithPath: "/tmp/chom-replica-logs-\(UUID().uuidString.prefix(8).lowercased())")
        guard !logs.isEmpty, (try? FileManager.default.createDirectory(at: kept, withIntermediateDirectories: true)) != nil
        else { return }
        for log in logs {
            try? FileManager.default.copyItem(
                at: directory.appendingPathComponent(log), to: kept.appendingPathComponent(log))
        }
        print("replica logs kept in \(kept.path)")
    }

    /// Starts one more replica and waits until its listeners are bound.
    func start(
        _ name: String, pollInterval: Double = 0.2, configure: (inout CoordinatorConfiguration) -> Void = { _ in }
    ) async throws -> Replica {
        var configuration = TestCoordinator.configuration(directory: directory.appendingPathComponent("keys"))
        configuration.databaseURL = databaseURL
        configuration.leader.pollIntervalSeconds = pollInterval
        configure(&configuration)
        var logger = logger
        logger[metadataKey: "test.replica"] = "\(name)"
        let replica = Replica(name: name, configuration: configuration, logger: logger)
        replicas.withLock { $0.append(replica) }
        _ = try await replica.coordinator.boundPorts()
        return replica
    }

    /// A store of its own on the fleet's database, as an operator with direct access would have.
    func withStore<Result: Sendable>(_ body: (Store) async throws -> Result) async throws -> Result {
        var configuration = try Store.configuration(databaseURL: databaseURL)
        configuration.options.connectTimeout = .seconds(5)
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            return try await body(Store(client: client, logger: logger))
        }
    }

    /// Polls until `condition` holds, or fails after `timeout`; returns how long it took.
    @discardableResult
    func eventually(
        _ what: String, timeout: Duration = .seconds(20), _ condition: () async throws -> Bool
    ) async throws -> Duration {
        let start = ContinuousClock.now
        while ContinuousClock.now < start + timeout {
            if try await condition() { return ContinuousClock.now - start }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw CHOMError(.unavailable, "timed out waiting for \(what)")
    }

    /// `body`'s answer, or a failure once `timeout` has passed.
    func within<Result: Sendable>(
        _ timeout: Duration, _ body: @escaping @Sendable () async throws -> Result
    ) async throws -> Result {
        try await withThrowingTaskGroup(of: Result?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let result = first else {
                throw CHOMError(.unavailable, "timed out after \(timeout)")
            }
            return result
        }
    }

    /// Stops every replica still running as SIGTERM does (its services in reverse order, the
    /// database pool last). Cancelling instead would stop the pool at the same moment as the
    /// services that still lease from it.
    private func cancelAll() async {
        for replica in replicas.withLock({ $0 }) { _ = try? await replica.stopGracefully() }
    }
}
