package import CHOMCore
import CHOMStore
import Foundation
package import Logging
import PostgresNIO
import ServiceLifecycle
import Synchronization

/// The coordinator: PostgreSQL (embedded unless a URL is configured) and, on it, everything else
/// (`CoordinatorRuntime`: migrations, keys, the two gRPC listeners, the admin API, the fleet
/// gauges and the leader with its loops), as one `Service` that runs a `ServiceGroup` of
/// [PostgreSQL client, runtime]. A group stops its services in reverse order, so on graceful
/// shutdown (SIGTERM, `triggerGracefulShutdown`) the pool stops last, after everything that uses
/// it has finished. Cancelling `run` stops everything at once, the pool included: the hard stop.
package final class Coordinator: Service, Sendable {
    /// The ports actually bound (useful when configured as 0).
    package struct BoundPorts: Sendable, Equatable {
        package var api: Int
        package var agents: Int
        package var enroll: Int
    }

    package let configuration: CoordinatorConfiguration
    package let metrics: CoordinatorMetrics
    /// Whether this replica leads the fleet, and with which epoch.
    package let leadership = Leadership()
    private let logger: Logger
    private let clock: any WallClock
    /// The ports once bound, or why the coordinator stopped before it was ready; and who waits.
    private let ready = Mutex<(outcome: Result<BoundPorts, any Error>?, waiters: [CheckedContinuation<BoundPorts, any Error>])>(
        (nil, []))
    private let caFingerprint = Mutex<String?>(nil)
    private let lifecycle = Mutex<(group: ServiceGroup?, stopRequested: Bool)>((nil, false))
    private let leaderLoops: [LeaderLoop]
    /// Names this replica in `fleet_leadership.holder`: host, process and instance.
    private let holder = "\(ProcessInfo.processInfo.hostName)/\(getpid())/\(UUID().uuidString.prefix(8).lowercased())"

    /// The first operator's password when the database has no user yet (tests); nil: generate
    /// one and print it once.
    private let bootstrapOperatorPassword: String?

    /// `leaderLoops` run beside the coordinator's own leader loops, while this replica leads.
    package init(
        configuration: CoordinatorConfiguration, logger: Logger, clock: any WallClock = SystemWallClock(),
        metrics: CoordinatorMetrics = CoordinatorMetrics(), bootstrapOperatorPassword: String? = nil,
        leaderLoops: [LeaderLoop] = []
    ) {
        self.bootstrapOperatorPassword = bootstrapOperatorPassword
        self.configuration = configuration
        self.logger = logger
        self.clock = clock
        self.metrics = metrics
        self.leaderLoops = leaderLoops
    }

    /// Waits until every listener is bound.
    package func boundPorts() async throws -> BoundPorts {
        try await withCheckedThrowingContinuation { continuation in
            let outcome = ready.withLock { state -> Result<BoundPorts, any Error>? in
                if let outcome = state.outcome { return outcome }
                state.waiters.append(continuation)
                return nil
            }
            if let outcome { continuation.resume(with: outcome) }
        }
    }

    /// SHA-256 of the fleet CA certificate, once started.
    package var caSHA256: String? { caFingerprint.withLock { $0 } }

    /// Stops the coordinator as SIGTERM does, for callers that run it without a parent
    /// `ServiceGroup` (tests): the API drains, the leader lets go, the streams end, the pool stops.
    package func triggerGracefulShutdown() async {
        let group = lifecycle.withLock { state in
            state.stopRequested = true
            return state.group
        }
        await group?.triggerGracefulShutdown()
    }

    package func run() async throws {
        do {
            try await serve()
        } catch {
            resumeWaiters(with: .failure(error))
            throw error
        }
        resumeWaiters(with: .failure(CHOMError(.unavailable, "the coordinator stopped before it was ready")))
    }

    private func serve() async throws {
        let keyRing = try SecretKeys.load(configuration)
        let dataDirectory = URL(fileURLWithPath: configuration.dataDirectory)
        try FileManager.default.createDirectory(at: dataDirectory, withIntermediateDirectories: true)
        let (clientConfiguration, embedded) = try await CoordinatorDatabase.open(configuration, logger: logger)
        defer { embedded?.stop() }
        let client = PostgresClient(configuration: clientConfiguration, backgroundLogger: logger)
        let runtime = CoordinatorRuntime(
            configuration: configuration, client: client, database: clientConfiguration, dataDirectory: dataDirectory,
            keyRing: keyRing, metrics: metrics, clock: clock, logger: logger,
            bootstrapOperatorPassword: bootstrapOperatorPassword, leadership: leadership, leaderLoops: leaderLoops,
            holder: holder, onKeys: { [weak self] sha256 in self?.caFingerprint.withLock { $0 = sha256 } },
            onReady: { [weak self] ports in self?.resumeWaiters(with: .success(ports)) })
        var groupConfiguration = ServiceGroupConfiguration(
            services: [ServiceGroupConfiguration.ServiceConfiguration(service: runtime)], logger: logger)
        // The runtime's own group escalates after `CoordinatorRuntime.maximumGracefulShutdown`.
        groupConfiguration.maximumGracefulShutdownDuration = CoordinatorRuntime.maximumGracefulShutdown + .seconds(10)
        let group = ServiceGroup(configuration: groupConfiguration)
        let stopRequested = lifecycle.withLock { state in
            state.group = group
            return state.stopRequested
        }
        defer { lifecycle.withLock { $0.group = nil } }
        if stopRequested { await group.triggerGracefulShutdown() }
        // The pool outlives every service that uses it, when the coordinator is cancelled as when it
        // stops gracefully. Cancelled together, a service in a query on a connection the pool was
        // closing could wait forever (postgres-nio 1.33.2 leaves such a query's future unfulfilled,
        // and the replica's `run` never returned: "a leader cancelled…" hung so). So the pool runs in
        // a task of its own, which a cancellation of this one does not reach; it is owned here,
        // cancelled once the services have returned, and awaited.
        let pool = Task { await client.run() }
        do {
            try await group.run()
        } catch {
            pool.cancel()
            await pool.value
            throw error
        }
        pool.cancel()
        await pool.value
    }

    private func resumeWaiters(with result: Result<BoundPorts, any Error>) {
        ready.withLock { state in
            // The first outcome stands: once ready, a later stop does not unsay the ports.
            if state.outcome == nil { state.outcome = result }
            let waiters = state.waiters
            state.waiters = []
            return waiters
        }.forEach { $0.resume(with: result) }
    }
}
