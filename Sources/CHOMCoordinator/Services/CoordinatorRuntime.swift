import CHOMCore
import CHOMProtocol
import CHOMStore
import CHOMTransport
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Hummingbird
import Logging
import NIOCore
import PostgresNIO
import ServiceLifecycle
import Synchronization

/// Everything of the coordinator that needs the database, started once the pool runs: migrations
/// first, then keys, the store and the first operator, then its own `ServiceGroup` of
/// [agent gRPC, enrollment gRPC, cross-replica wake listener, fleet gauges, leader] and, once both gRPC listeners are bound
/// (the API hands out the enrollment port), the admin API. A group shuts its services down in
/// reverse order, each after the one before has finished: the API drains, the leader lets go of
/// its lock, then the enrollment listener drains and the agents' streams end.
struct CoordinatorRuntime: Service {
    /// How long a graceful shutdown may take before the remaining services are cancelled.
    static let maximumGracefulShutdown: Duration = .seconds(15)

    let configuration: CoordinatorConfiguration
    let client: PostgresClient
    let database: PostgresClient.Configuration
    let dataDirectory: URL
    let keyRing: KeyRing
    let metrics: CoordinatorMetrics
    let clock: any WallClock
    let logger: Logger
    let bootstrapOperatorPassword: String?
    let leadership: Leadership
    let leaderLoops: [LeaderLoop]
    let holder: String
    let onKeys: @Sendable (_ caSHA256: String) -> Void
    let onReady: @Sendable (Coordinator.BoundPorts) -> Void

    func run() async throws {
        try await Migrator.migrate(client, logger: logger)
        let keys = try CoordinatorKeys.loadOrCreate(
            dataDirectory: dataDirectory, hostnames: configuration.grpc.advertisedHostnames,
            addresses: configuration.grpc.advertisedAddresses, now: clock.now())
        let store = Store(client: client, logger: logger, audit: configuration.audit.settings(signingKey: keys.signer.privateKey))
        let identity = IdentityServices(configuration: configuration, keyRing: keyRing)
        try await bootstrapOperator(store, identity: identity)
        try await BillingArrival.run(store: store, configuration: configuration.billing, now: clock.now(), logger: logger)
        onKeys(keys.ca.fingerprintSHA256)
        guard !Task.isShuttingDownGracefully else { return }

        let connections = AgentConnections(publish: WakeBus.publisher(client, logger: logger))
        let ports = ListenerPorts()
        let tasks = SiteTaskBuilder(
            secretBox: identity.secretBox, backups: configuration.backups,
            maxAttempts: configuration.dispatch.maxDeliveryAttempts)
        let dispatcher = Dispatcher(
            store: store, signer: keys.signer, secretBox: identity.secretBox, configuration: configuration.dispatch,
            clock: clock, metrics: metrics, logger: logger)
        let gateway = AgentGatewayService(
            store: store, keys: keys, configuration: configuration, connections: connections, dispatcher: dispatcher,
            layoutConvergence: SiteLayoutConvergence(store: store, tasks: tasks), metrics: metrics, clock: clock,
            logger: logger, enrollmentGate: EnrollmentGate(configuration.agents), connectPort: { ports.agents })
        let agentTransport = HTTP2ServerTransport.Posix(
            address: .ipv4(host: configuration.grpc.host, port: configuration.grpc.port),
            transportSecurity: try CoordinatorTLS.agents(
                serverCertificate: keys.serverCertificate, serverKey: keys.serverKey, caCertificate: keys.ca.certificate))
        let enrollTransport = HTTP2ServerTransport.Posix(
            address: .ipv4(host: configuration.grpc.host, port: configuration.grpc.enrollPort),
            transportSecurity: try CoordinatorTLS.enrollment(
                serverCertificate: keys.serverCertificate, serverKey: keys.serverKey, caCertificate: keys.ca.certificate))
        let backups = BackupScheduler(
            store: store, tasks: tasks, connections: connections, logger: logger,
            quotas: BillingQuotas(store: store, configuration: configuration.billing))
        let housekeeping = HousekeepingLoops(
            store: store, configuration: configuration, backups: backups, metrics: metrics,
            auditCheck: AuditSelfCheck(store: store, publicKey: keys.signer.publicKey), clock: clock, logger: logger)
        let fleet = FleetLoops(
            store: store, configuration: configuration, tasks: tasks, connections: connections,
            dns: try FleetLoops.dnsUpdater(store: store, configuration: configuration, logger: logger), metrics: metrics,
            clock: clock, logger: logger)
        // Each gRPC listener reports the port it bound (nil: it could not); the stream ends with the group.
        let listening = AsyncStream<(agents: Bool, port: Int?)>.makeStream()
        let services: [any Service] = [
                GRPCServerService(
                    server: GRPCServer(transport: agentTransport, services: [gateway]), shutdown: .endStreams,
                    onListening: { listening.continuation.yield((agents: true, port: $0)) }),
                GRPCServerService(
                    server: GRPCServer(transport: enrollTransport, services: [gateway]), shutdown: .drain,
                    onListening: { listening.continuation.yield((agents: false, port: $0)) }),
                WakeListenerService(database: database, connections: connections, logger: logger),
                DispatchSweepService(
                    store: store, connections: connections,
                    interval: .milliseconds(Int(max(0.05, configuration.dispatch.pollIntervalSeconds) * 1000)), logger: logger),
                FleetGaugesService(
                    store: store, connections: connections, metrics: metrics, interval: housekeeping.upkeepInterval,
                    logger: logger),
                LeaderService(
                    store: store, database: database, loops: housekeeping.loops + fleet.loops + leaderLoops,
                    pollInterval: .seconds(max(0.05, configuration.leader.pollIntervalSeconds)), holder: holder,
                    leadership: leadership, metrics: metrics, clock: clock, logger: logger),
        ]
        var groupConfiguration = ServiceGroupConfiguration(
            services: services.map { ServiceGroupConfiguration.ServiceConfiguration(service: $0) }, logger: logger)
        // A service that does not end within this of a graceful shutdown (a stream or a query that
        // does not hear it) is cancelled, so the coordinator always stops.
        groupConfiguration.maximumGracefulShutdownDuration = Self.maximumGracefulShutdown
        let group = ServiceGroup(configuration: groupConfiguration)

        let advertisedHost = configuration.grpc.advertisedAddresses.first
            ?? configuration.grpc.advertisedHostnames.first ?? "127.0.0.1"
        let api = AdminAPI(
            store: store, keys: keys, configuration: configuration, connections: connections, metrics: metrics,
            clock: clock, identity: identity, openAPIDocument: ByteBuffer(string: OpenAPIDocument.yaml),
            enrollAddress: { "\(advertisedHost):\(ports.enroll)" })
        let apiPort = AsyncStream<Int>.makeStream()
        let app = Application(
            router: api.router(),
            configuration: .init(
                address: .hostname(configuration.api.host, port: configuration.api.port), serverName: "chom-coordinator"),
            onServerRunning: { channel in
                apiPort.continuation.yield(channel.localAddress?.port ?? 0)
                apiPort.continuation.finish()
            },
            logger: logger)

        try await withThrowingTaskGroup(of: Void.self) { running in
            running.addTask {
                // Whatever ends the group, nothing waits for a listener's port any longer.
                defer {
                    apiPort.continuation.finish()
                    listening.continuation.finish()
                }
                try await group.run()
            }
            var reported: (agents: Int??, enroll: Int??) = (nil, nil)
            for await report in listening.stream {
                if report.agents { reported.agents = .some(report.port) } else { reported.enroll = .some(report.port) }
                if reported.agents != nil, reported.enroll != nil { break }
            }
            guard let agentsPort = reported.agents ?? nil, let enrollPort = reported.enroll ?? nil,
                agentsPort > 0, enrollPort > 0
            else {
                if Task.isShuttingDownGracefully { return try await running.waitForAll() }
                // The services ended before both listeners reported: their own error says why.
                if reported.agents == nil || reported.enroll == nil {
                    try await running.waitForAll()
                    throw CHOMError(.unavailable, "the coordinator's services stopped before its gRPC listeners were bound")
                }
                let address = "\(configuration.grpc.host) ports \(configuration.grpc.port) and \(configuration.grpc.enrollPort)"
                throw CHOMError(.unavailable, "the gRPC listeners could not bind \(address)")
            }
            ports.agents = agentsPort
            ports.enroll = enrollPort
            await group.addServiceUnlessShutdown(app)
            var boundAPIPort = 0
            for await port in apiPort.stream { boundAPIPort = port }
            guard boundAPIPort > 0 else {
                if Task.isShuttingDownGracefully { return try await running.waitForAll() }
                throw CHOMError(.unavailable, "the admin API could not bind \(configuration.api.host):\(configuration.api.port)")
            }
            let bound = Coordinator.BoundPorts(api: boundAPIPort, agents: ports.agents, enroll: ports.enroll)
            logger.info(
                "coordinator ready",
                metadata: [
                    "chom.api_port": "\(bound.api)", "chom.agent_port": "\(bound.agents)",
                    "chom.enroll_port": "\(bound.enroll)", "chom.ca_sha256": "\(keys.ca.fingerprintSHA256)",
                ])
            onReady(bound)
            try await withGracefulShutdownHandler {
                try await running.waitForAll()
            } onGracefulShutdown: { [logger] in
                logger.info("coordinator shutting down")
            }
        }
    }

    private func bootstrapOperator(_ store: Store, identity: IdentityServices) async throws {
        guard let created = try await BootstrapOperator.create(
            store: store, email: configuration.auth.bootstrapOperatorEmail, password: bootstrapOperatorPassword,
            hasher: identity.hasher, now: clock.now(), onlyIfNoUsers: true)
        else { return }
        if created.generated {
            BootstrapOperator.announce(created)
        } else {
            logger.info("created the first platform operator", metadata: ["chom.email": "\(created.email)"])
        }
    }
}

/// The gRPC ports once bound, read by the gateway (the Connect port it tells enrolling agents)
/// and by the API (the enrollment address it hands out).
private final class ListenerPorts: Sendable {
    private let ports = Mutex((agents: 0, enroll: 0))

    var agents: Int {
        get { ports.withLock { $0.agents } }
        set { ports.withLock { $0.agents = newValue } }
    }

    var enroll: Int {
        get { ports.withLock { $0.enroll } }
        set { ports.withLock { $0.enroll = newValue } }
    }
}
