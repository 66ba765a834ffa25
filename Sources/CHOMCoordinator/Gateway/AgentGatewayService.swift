import CHOMAudit
import CHOMCore
import CHOMProtocol
import CHOMStore
import CHOMTransport
import Crypto
import Foundation
import GRPCCore
import Logging
import X509

/// The gRPC service agents dial. Enroll is served on the enrollment listener; Connect and
/// FetchArtifact need the agent listener's mutual TLS, and take the agent's identity only
/// from its verified client certificate.
struct AgentGatewayService: Chom_Agent_V1_AgentGateway.SimpleServiceProtocol {
    let store: Store
    let keys: CoordinatorKeys
    let configuration: CoordinatorConfiguration
    let connections: AgentConnections
    let dispatcher: Dispatcher
    let metrics: CoordinatorMetrics
    let clock: any WallClock
    let logger: Logger
    /// The bound agent-listener port, told to enrolling agents.
    let connectPort: @Sendable () -> Int

    func enroll(
        request: Chom_Agent_V1_EnrollRequest, context: ServerContext
    ) async throws -> Chom_Agent_V1_EnrollResponse {
        guard let token = JoinTokenSecret(parsing: request.joinToken) else {
            throw RPCError(code: .unauthenticated, message: "join token not recognised")
        }
        let csr: CertificateSigningRequestPEM
        do {
            csr = try CertificateSigningRequestPEM(request.csrPem)
        } catch {
            throw RPCError(code: .invalidArgument, message: "the CSR is not a valid PEM certificate signing request")
        }
        let now = clock.now()
        let agentID = AgentID()
        let certificate: String
        let serial: String
        let notAfter: Date
        do {
            let issued = try keys.ca.issueAgentCertificate(
                csr: csr.request, agentID: agentID.uuid, now: now,
                validity: configuration.agents.certificateLifetimeSeconds)
            certificate = try AgentKeyPair.pem(of: issued)
            serial = AgentIdentity.serialHex(issued)
            notAfter = issued.notValidAfter
        } catch {
            throw RPCError(code: .invalidArgument, message: "the CSR was refused: \(error)")
        }
        let name = request.name.isEmpty ? request.facts.hostname : request.name
        let verdict = try await store.joinTokens.consume(
            token.id, presentedSHA256: token.secretSHA256, now: now, sourceAddress: context.remotePeer,
            agent: NewAgent(
                id: agentID, name: String(name.prefix(128)), certificateSerial: serial, certificateNotAfter: notAfter,
                agentVersion: String(request.agentVersion.prefix(64)), hostFacts: HostFacts(request.facts)),
            audit: { [address = context.remotePeer] verdict in
                AuditEntry(
                    time: now, actor: "join_token:\(token.id)", action: verdict == .valid ? "agent.enroll" : "join_token.use.refused",
                    target: verdict == .valid ? "agent:\(agentID)" : "join_token:\(token.id)", sourceAddress: address,
                    details: ["outcome": verdict.rawValue, "name": String(name.prefix(128))])
            })
        switch verdict {
        case .valid:
            break
        case .unknown, .wrongSecret:
            throw RPCError(code: .unauthenticated, message: "join token not recognised")
        case .expired, .revoked, .exhausted:
            throw RPCError(code: .permissionDenied, message: "join token is \(verdict.rawValue)")
        }
        logger.info("agent enrolled", metadata: [LogKey.agentID: "\(agentID)", LogKey.address: "\(context.remotePeer)"])
        var response = Chom_Agent_V1_EnrollResponse()
        response.agentID = agentID.description
        response.certificatePem = certificate
        response.caPem = keys.ca.certificatePEM
        var key = Chom_Agent_V1_EnvelopeKey()
        key.keyID = keys.signer.keyID
        key.publicKey = keys.signer.publicKey.rawRepresentation
        response.envelopeKeys = [key]
        response.connectPort = UInt32(connectPort())
        return response
    }

    func connect(
        request: RPCAsyncSequence<Chom_Agent_V1_AgentMessage, any Error>,
        response: RPCWriter<Chom_Agent_V1_CoordinatorMessage>,
        context: ServerContext
    ) async throws {
        let peer = try await authenticate(context)
        let agentID = AgentID(peer.agentID)
        var logger = logger
        logger[metadataKey: LogKey.agentID] = "\(agentID)"
        var messages = request.makeAsyncIterator()
        guard case .hello(let hello)? = try await messages.next()?.event else {
            throw RPCError(code: .failedPrecondition, message: "the first message on a stream must be hello")
        }
        try await store.agents.connected(
            agentID, version: String(hello.agentVersion.prefix(64)),
            highestSequenceSeen: Int64(clamping: hello.highestSequence),
            metricsAddress: MetricsAddress.resolve(reported: hello.metricsAddress, remotePeer: peer.remoteAddress),
            now: clock.now())
        let connection = AgentConnection(agentID: agentID, writer: response)
        await connections.register(connection)
        metrics.set(streams: await connections.count)
        logger.info("agent connected")
        let handler = AgentMessageHandler(
            store: store, keys: keys, configuration: configuration, metrics: metrics, clock: clock, logger: logger)
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await dispatcher.serve(connection) }
                while let message = try await messages.next() {
                    try await handler.handle(message, from: agentID, on: connection)
                    if message.event.isResult { connection.wake.signal() }
                }
                group.cancelAll()
            }
        } catch {
            await streamEnded(connection)
            throw error
        }
        await streamEnded(connection)
        logger.info("agent stream ended")
    }

    func fetchArtifact(
        request: Chom_Agent_V1_FetchArtifactRequest,
        response: RPCWriter<Chom_Agent_V1_ArtifactChunk>,
        context: ServerContext
    ) async throws {
        let peer = try await authenticate(context)
        guard let releaseID = ReleaseID(request.releaseID), let release = try await store.releases.get(releaseID),
            let site = try await store.sites(in: .fleet).get(release.siteID), site.agentID?.uuid == peer.agentID
        else {
            throw RPCError(code: .notFound, message: "no such release for this agent")
        }
        try await store.releases.read(releaseID) { bytes in
            var chunk = Chom_Agent_V1_ArtifactChunk()
            chunk.data = Data(bytes)
            try await response.write(chunk)
        }
    }

    /// Forgets the stream; the agent is offline until it reconnects (on this or another replica).
    private func streamEnded(_ connection: AgentConnection) async {
        await connections.unregister(connection)
        metrics.set(streams: await connections.count)
        if await !connections.hasConnection(connection.agentID) {
            try? await store.agents.disconnected(connection.agentID)
        }
    }

    /// The agent behind a call: a client certificate from the fleet CA (checked by the TLS
    /// handshake) whose agent exists and is not deleted.
    private func authenticate(_ context: ServerContext) async throws -> PeerIdentity {
        guard let peer = PeerIdentity(context: context) else {
            throw RPCError(code: .unauthenticated, message: "a fleet client certificate is required")
        }
        guard let agent = try await store.agents.get(AgentID(peer.agentID)), agent.state != .deleted else {
            throw RPCError(code: .permissionDenied, message: "this agent is not (or no longer) enrolled")
        }
        return peer
    }
}

extension Chom_Agent_V1_AgentMessage.OneOf_Event? {
    var isResult: Bool {
        if case .result? = self { return true }
        return false
    }
}
