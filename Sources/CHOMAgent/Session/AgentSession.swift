package import CHOMCore
import CHOMProtocol
import CHOMTransport
import Crypto
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
package import Logging
import ServiceLifecycle

/// The agent's main loop: dial the coordinator's agent listener over mutual TLS, hold the
/// Connect stream, and when it ends dial again — forever, with jittered exponential backoff
/// (reset after a stream that stayed up). After a certificate renewal it reconnects at once
/// with the new certificate. Graceful shutdown lets a running task finish, then closes the stream.
package final class AgentSession: Service, Sendable {
    package let configuration: AgentConfiguration
    package let store: AgentIdentityStore
    package let journal: Journal
    package let metrics: AgentMetrics
    package let ledger: ExecutionLedger
    package let control: SessionControl
    package let hosting: (any SiteHosting)?
    /// Told of every heartbeat answer (nil: the agent keeps no site lease).
    package let lease: SiteLeaseKeeper?
    /// Billing's meters, whose pending samples each stream sends (nil: no hosting, no usage).
    package let usage: UsageMeter?
    private let clock: any WallClock
    private let logger: Logger
    /// Each task's lines to the syslog collector, when log forwarding is on.
    private let taskLog: TaskLogForwarder?

    package init(
        configuration: AgentConfiguration, store: AgentIdentityStore, journal: Journal, metrics: AgentMetrics,
        ledger: ExecutionLedger, control: SessionControl = SessionControl(), hosting: (any SiteHosting)? = nil,
        lease: SiteLeaseKeeper? = nil, usage: UsageMeter? = nil, clock: any WallClock, logger: Logger,
        taskLog: TaskLogForwarder? = nil
    ) {
        self.taskLog = taskLog
        self.hosting = hosting
        self.lease = lease
        self.usage = usage
        self.configuration = configuration
        self.store = store
        self.journal = journal
        self.metrics = metrics
        self.ledger = ledger
        self.control = control
        self.clock = clock
        self.logger = logger
    }

    package func run() async throws {
        let control = self.control
        try await withGracefulShutdownHandler {
            try await loop()
        } onGracefulShutdown: {
            control.beginShutdown()
        }
        metrics.setStreamConnected(false)
    }

    private func loop() async throws {
        var backoff = ReconnectBackoff(configuration.reconnect)
        var attempts = 0
        // Which replica the next dial goes to; it moves on after every stream or failed dial.
        var turn = 0
        while !control.isShuttingDown, !Task.isCancelled {
            guard let identity = try store.load() else {
                throw CHOMError(.configuration, "this agent is not enrolled (no identity in \(store.directory.path))")
            }
            let addresses = Self.addresses(configuration: configuration, identity: identity)
            let address = addresses[turn % addresses.count]
            turn += 1
            var logger = self.logger
            logger[metadataKey: LogKey.agentID] = "\(identity.agentID)"
            logger[metadataKey: LogKey.address] = "\(address)"
            logger[metadataKey: LogKey.attempt] = "\(attempts)"
            if attempts > 0 { metrics.reconnecting() }
            attempts += 1

            let started = ContinuousClock.now
            let accepted = LockedBox(false)
            var end: ConnectionEnd = .closed
            do {
                end = try await connectWithin(identity: identity, address: address, accepted: accepted, logger: logger)
            } catch {
                if control.isShuttingDown || Task.isCancelled { break }
                logger.warning("connection to the coordinator failed", metadata: [LogKey.error: "\(Self.describe(error))"])
            }
            metrics.setStreamConnected(false)
            switch end {
            case .shutdown:
                return
            case .renewed:
                // The same replica again, at once, with the new certificate.
                turn -= 1
                backoff.reset()
                continue
            case .closed:
                if accepted.value { logger.info("stream to the coordinator closed") }
            }
            if control.isShuttingDown || Task.isCancelled { break }
            if accepted.value, ContinuousClock.now - started >= configuration.reconnect.stableAfter { backoff.reset() }
            let delay = backoff.nextDelay()
            let milliseconds = delay.components.seconds * 1000 + delay.components.attoseconds / 1_000_000_000_000_000
            logger.debug("reconnecting after a delay", metadata: [LogKey.durationMS: "\(milliseconds)"])
            await sleep(delay)
        }
    }

    /// `connect`, given up on when the coordinator has not accepted the stream within
    /// `reconnect.acceptTimeout`; once accepted, the stream lasts as long as it lasts.
    private func connectWithin(
        identity: EnrolledIdentity, address: CoordinatorAddress, accepted: LockedBox<Bool>, logger: Logger
    ) async throws -> ConnectionEnd {
        let timeout = configuration.reconnect.acceptTimeout
        return try await withThrowingTaskGroup(of: ConnectionEnd?.self) { group in
            group.addTask {
                try await self.connect(identity: identity, address: address, accepted: accepted, logger: logger)
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            while let next = try await group.next() {
                if let end = next {
                    group.cancelAll()
                    return end
                }
                if !accepted.value {
                    group.cancelAll()
                    throw CHOMError(.unavailable, "the coordinator did not accept the stream within \(timeout)")
                }
            }
            return .closed
        }
    }

    private func connect(
        identity: EnrolledIdentity, address: CoordinatorAddress, accepted: LockedBox<Bool>, logger: Logger
    ) async throws -> ConnectionEnd {
        let security = AgentTLS.mutual(
            certificatePEM: identity.certificatePEM, privateKeyPEM: identity.privateKeyPEM, caPEM: identity.caPEM)
        let keepalive = configuration.keepalive
        let transport = try HTTP2ClientTransport.Posix(
            target: address.target, transportSecurity: security,
            config: .defaults { config in
                config.connection.keepalive = HTTP2ClientTransport.Config.Keepalive(
                    time: keepalive, timeout: .seconds(20), allowWithoutCalls: false)
            })
        let opener = EnvelopeOpener(trustedKeys: try identity.trustedKeys(), expectedAgent: identity.agentID)
        // An agent enrolled before sealed secrets makes its key now and registers it on the stream.
        var sealingKey: Curve25519.KeyAgreement.PrivateKey?
        if configuration.sealedSecrets {
            let (key, created) = try store.loadOrCreateSealingKey()
            if created { logger.notice("generated a sealing key; registering it with the coordinator") }
            sealingKey = key
        }
        let inventory = InventoryReporter(configuration: configuration, clock: clock)
        return try await withGRPCClient(transport: transport) { client in
            let gateway = Chom_Agent_V1_AgentGateway.Client(wrapping: client)
            var dispatcher = TaskDispatcher(
                configuration: configuration, artifacts: GRPCArtifactSource(client: gateway),
                storage: GRPCStoragePresigner(client: gateway), hosting: hosting,
                metrics: metrics, clock: clock, logger: logger)
            dispatcher.siteRecords = inventory.records
            let handler = EnvelopeHandler(
                opener: opener, journal: journal, executor: dispatcher, metrics: metrics,
                ledger: ledger, clock: clock, logger: logger, sealingKey: sealingKey, taskLog: taskLog)
            let connection = SessionConnection(
                gateway: gateway, identity: identity, handler: handler, configuration: configuration, store: store,
                metrics: metrics, control: control, clock: clock, logger: logger, accepted: accepted,
                sealingPublicKey: sealingKey?.publicKey, inventory: inventory, lease: lease, usage: usage)
            return try await connection.run()
        }
    }

    /// The agent listeners to dial in turn: the configured replicas, else the enrolled address.
    static func addresses(configuration: AgentConfiguration, identity: EnrolledIdentity) -> [CoordinatorAddress] {
        guard configuration.connectAddresses.isEmpty else { return configuration.connectAddresses }
        return [CoordinatorAddress(host: identity.record.coordinatorHost, port: identity.record.connectPort)]
    }

    /// Sleeps for `delay`, or less if a shutdown is asked for or the task is cancelled.
    private func sleep(_ delay: Duration) async {
        let control = self.control
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await Task.sleep(for: delay) }
            group.addTask { await control.waitForShutdown() }
            await group.next()
            group.cancelAll()
        }
    }

    /// An RPC error with its causes (the TLS alert is usually in a cause).
    static func describe(_ error: any Error) -> String {
        guard let rpc = error as? RPCError else { return String(describing: error) }
        return "\(rpc.code): " + Enroller.describe(rpc)
    }
}
