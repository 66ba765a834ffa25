package import CHOMCore
import CHOMProtocol
import CHOMStore
import CHOMTransport
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Hummingbird
package import Logging
import NIOCore
import PostgresNIO
import ServiceLifecycle
import Synchronization

/// The coordinator: PostgreSQL (embedded unless a URL is configured), migrations, keys,
/// the two gRPC listeners, the admin API and the background loops, as one `Service`.
package final class Coordinator: Service, Sendable {
    /// The ports actually bound (useful when configured as 0).
    package struct BoundPorts: Sendable, Equatable {
        package var api: Int
        package var agents: Int
        package var enroll: Int
    }

    package let configuration: CoordinatorConfiguration
    package let metrics: CoordinatorMetrics
    private let logger: Logger
    private let clock: any WallClock
    private let ready = Mutex<(ports: BoundPorts?, waiters: [CheckedContinuation<BoundPorts, any Error>])>((nil, []))
    private let caFingerprint = Mutex<String?>(nil)

    /// The first operator's password when the database has no user yet (tests); nil: generate
    /// one and print it once.
    private let bootstrapOperatorPassword: String?

    package init(
        configuration: CoordinatorConfiguration, logger: Logger, clock: any WallClock = SystemWallClock(),
        metrics: CoordinatorMetrics = CoordinatorMetrics(), bootstrapOperatorPassword: String? = nil
    ) {
        self.bootstrapOperatorPassword = bootstrapOperatorPassword
        self.configuration = configuration
        self.logger = logger
        self.clock = clock
        self.metrics = metrics
    }

    /// Waits until every listener is bound.
    package func boundPorts() async throws -> BoundPorts {
        try await withCheckedThrowingContinuation { continuation in
            let ports = ready.withLock { state -> BoundPorts? in
                if let ports = state.ports { return ports }
                state.waiters.append(continuation)
                return nil
            }
            if let ports { continuation.resume(returning: ports) }
        }
    }

    /// SHA-256 of the fleet CA certificate, once started.
    package var caSHA256: String? { caFingerprint.withLock { $0 } }

    package func run() async throws {
        let keyRing = try SecretKeys.load(configuration)
        let dataDirectory = URL(fileURLWithPath: configuration.dataDirectory)
        try FileManager.default.createDirectory(at: dataDirectory, withIntermediateDirectories: true)
        let (clientConfiguration, embedded) = try await CoordinatorDatabase.open(configuration, logger: logger)
        defer { embedded?.stop() }
        do {
            try await serve(clientConfiguration, dataDirectory: dataDirectory, keyRing: keyRing)
        } catch {
            ready.withLock { state in
                let waiters = state.waiters
                state.waiters = []
                return waiters
            }.forEach { $0.resume(throwing: error) }
            throw error
        }
    }

    private func serve(
        _ clientConfiguration: PostgresClient.Configuration, dataDirectory: URL, keyRing: KeyRing
    ) async throws {
        let client = PostgresClient(configuration: clientConfiguration, backgroundLogger: logger)
        // The pool outlives everything that uses it: it is not a child of the group below (whose
        // children a cancellation reaches all at once), so a query in flight while the coordinator
        // stops is answered or cancelled instead of waiting forever for a pool that has gone.
        let pool = Task { await client.run() }
        defer { pool.cancel() }
        try await withThrowingTaskGroup(of: Void.self) { group in
            try await Migrator.migrate(client, logger: logger)
            let keys = try CoordinatorKeys.loadOrCreate(
                dataDirectory: dataDirectory, hostnames: configuration.grpc.advertisedHostnames,
                addresses: configuration.grpc.advertisedAddresses, now: clock.now())
            let store = Store(client: client, logger: logger, audit: configuration.audit.settings(signingKey: keys.signer.privateKey))
            let identity = IdentityServices(configuration: configuration, keyRing: keyRing)
            if let created = try await BootstrapOperator.create(
                store: store, email: configuration.auth.bootstrapOperatorEmail, password: bootstrapOperatorPassword,
                hasher: identity.hasher, now: clock.now(), onlyIfNoUsers: true)
            {
                if created.generated {
                    BootstrapOperator.announce(created)
                } else {
                    logger.info("created the first platform operator", metadata: ["chom.email": "\(created.email)"])
                }
            }
            caFingerprint.withLock { $0 = keys.ca.fingerprintSHA256 }
            let connections = AgentConnections()
            let agentPort = Mutex(0)
            let dispatcher = Dispatcher(
                store: store, signer: keys.signer, secretBox: identity.secretBox, configuration: configuration.dispatch, clock: clock,
                metrics: metrics, logger: logger)
            let service = AgentGatewayService(
                store: store, keys: keys, configuration: configuration, connections: connections,
                dispatcher: dispatcher,
                layoutConvergence: SiteLayoutConvergence(store: store, tasks: SiteTaskBuilder(
                    secretBox: identity.secretBox, backups: configuration.backups,
                    maxAttempts: configuration.dispatch.maxDeliveryAttempts)),
                metrics: metrics, clock: clock, logger: logger,
                enrollmentGate: EnrollmentGate(configuration.agents), connectPort: { agentPort.withLock { $0 } })
            let agentTransport = HTTP2ServerTransport.Posix(
                address: .ipv4(host: configuration.grpc.host, port: configuration.grpc.port),
                transportSecurity: try CoordinatorTLS.agents(
                    serverCertificate: keys.serverCertificate, serverKey: keys.serverKey,
                    caCertificate: keys.ca.certificate))
            let enrollTransport = HTTP2ServerTransport.Posix(
                address: .ipv4(host: configuration.grpc.host, port: configuration.grpc.enrollPort),
                transportSecurity: try CoordinatorTLS.enrollment(
                    serverCertificate: keys.serverCertificate, serverKey: keys.serverKey,
                    caCertificate: keys.ca.certificate))
            let agentServer = GRPCServer(transport: agentTransport, services: [service])
            let enrollServer = GRPCServer(transport: enrollTransport, services: [service])
            group.addTask { try await agentServer.serve() }
            group.addTask { try await enrollServer.serve() }
            let boundAgentPort: Int
            let boundEnrollPort: Int
            do {
                boundAgentPort = try await agentTransport.listeningAddress.ipv4?.port ?? 0
                boundEnrollPort = try await enrollTransport.listeningAddress.ipv4?.port ?? 0
            } catch {
                throw CHOMError(.unavailable, "the gRPC listeners could not bind: \(error)")
            }
            agentPort.withLock { $0 = boundAgentPort }
            guard boundAgentPort > 0, boundEnrollPort > 0 else {
                throw CHOMError(.unavailable, "the gRPC listeners could not bind (no IPv4 address)")
            }
            let advertisedHost = configuration.grpc.advertisedAddresses.first
                ?? configuration.grpc.advertisedHostnames.first ?? "127.0.0.1"
            let api = AdminAPI(
                store: store, keys: keys, configuration: configuration, connections: connections, metrics: metrics,
                clock: clock, identity: identity, openAPIDocument: ByteBuffer(string: OpenAPIDocument.yaml),
                enrollAddress: { "\(advertisedHost):\(boundEnrollPort)" })
            let apiPort = AsyncStream<Int>.makeStream()
            let app = Application(
                router: api.router(),
                configuration: .init(
                    address: .hostname(configuration.api.host, port: configuration.api.port),
                    serverName: "chom-coordinator"),
                onServerRunning: { channel in
                    apiPort.continuation.yield(channel.localAddress?.port ?? 0)
                    apiPort.continuation.finish()
                },
                logger: logger)
            let appStopped = AsyncStream<Void>.makeStream()
            group.addTask {
                defer { appStopped.continuation.finish() }
                try await app.run()
            }
            var boundAPIPort = 0
            for await port in apiPort.stream { boundAPIPort = port }
            group.addTask { try await self.housekeeping(store: store, connections: connections) }
            let backups = BackupScheduler(
                store: store,
                tasks: SiteTaskBuilder(
                    secretBox: identity.secretBox, backups: configuration.backups,
                    maxAttempts: configuration.dispatch.maxDeliveryAttempts),
                connections: connections, logger: logger)
            group.addTask { [clock, configuration] in
                try await backups.run(every: configuration.backups.scheduleIntervalSeconds, clock: clock)
            }
            let ports = BoundPorts(api: boundAPIPort, agents: boundAgentPort, enroll: boundEnrollPort)
            logger.info(
                "coordinator ready",
                metadata: [
                    "chom.api_port": "\(ports.api)", "chom.agent_port": "\(ports.agents)",
                    "chom.enroll_port": "\(ports.enroll)", "chom.ca_sha256": "\(keys.ca.fingerprintSHA256)",
                ])
            ready.withLock { state in
                state.ports = ports
                let waiters = state.waiters
                state.waiters = []
                return waiters
            }.forEach { $0.resume(returning: ports) }
            // Until SIGTERM (graceful shutdown) or cancellation: then close the streams;
            // in-flight tasks stay in the durable queue and are re-sent after reconnects.
            try? await gracefulShutdown()
            logger.info("coordinator shutting down")
            agentServer.beginGracefulShutdown()
            enrollServer.beginGracefulShutdown()
            // The admin API drains by itself on graceful shutdown; give it that moment, then
            // cancel the rest (agent streams never end on their own).
            await withTaskGroup(of: Void.self) { wait in
                wait.addTask { for await _ in appStopped.stream {} }
                wait.addTask { try? await Task.sleep(for: .seconds(5)) }
                await wait.next()
                wait.cancelAll()
            }
            group.cancelAll()
        }
    }

    /// Marks silent agents offline and refreshes gauges.
    private func housekeeping(store: Store, connections: AgentConnections) async throws {
        let exporter = AuditCheckpointExporter(directory: configuration.audit.exportDirectory)
        let interval = max(0.2, min(configuration.agents.heartbeatIntervalSeconds, configuration.agents.offlineGraceSeconds / 2))
        while !Task.isCancelled {
            do {
                let cutoff = clock.now().addingTimeInterval(-configuration.agents.offlineGraceSeconds)
                try await store.agents.markSilentOffline(before: cutoff)
                let agents = try await store.agents.list(includeDeleted: true)
                metrics.set(agents: Dictionary(grouping: agents, by: \.state).mapValues(\.count))
                metrics.set(tasks: try await store.tasks.countByState())
                metrics.set(streams: await connections.count)
                try await store.audit.checkpointIfDue(now: clock.now())
                try await exporter.export(store.audit)
            } catch {
                logger.warning("housekeeping failed", metadata: [LogKey.error: "\(error)"])
            }
            try await Task.sleep(for: .milliseconds(Int(interval * 1000)))
        }
    }
}
