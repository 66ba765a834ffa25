import CHOMAudit
import CHOMCore
import CHOMProtocol
import CHOMStore
import CHOMTransport
import Crypto
import Foundation
import GRPCCore
import Logging
import Synchronization
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
    let layoutConvergence: SiteLayoutConvergence
    let metrics: CoordinatorMetrics
    let clock: any WallClock
    let logger: Logger
    /// Failed enrollments per source address.
    let enrollmentGate: EnrollmentGate
    /// The bound agent-listener port, told to enrolling agents.
    let connectPort: @Sendable () -> Int

    /// Enroll, in this order: the source address's throttle, the join token's shape, the CSR's shape,
    /// the token's verdict under its row lock, and only for a valid token the CSR signed and the agent
    /// stored, in the same transaction. Every failure counts against the address.
    func enroll(
        request: Chom_Agent_V1_EnrollRequest, context: ServerContext
    ) async throws -> Chom_Agent_V1_EnrollResponse {
        let now = clock.now()
        let address = EnrollmentThrottle.sourceAddress(ofPeer: context.remotePeer)
        switch enrollmentGate.attempt(address: address, now: now) {
        case .allowed:
            break
        case .limited(let retryAfter, let firstRefusal):
            if firstRefusal { try await auditThrottled(address: address, peer: context.remotePeer, now: now) }
            throw RPCError(
                code: .resourceExhausted,
                message: "too many failed enrollment attempts from this address; retry in \(Int(retryAfter.rounded(.up))) s")
        }
        let enrolled = try await enroll(request, peer: context.remotePeer, now: now)
        enrollmentGate.succeeded(address: address, attemptedAt: now)
        return enrolled
    }

    private func enroll(
        _ request: Chom_Agent_V1_EnrollRequest, peer: String, now: Date
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
        let sealingKey: [UInt8]? = request.sealingPublicKey.isEmpty ? nil : Array(request.sealingPublicKey)
        guard sealingKey == nil || SecretSealing.publicKey(raw: request.sealingPublicKey) != nil else {
            throw RPCError(code: .invalidArgument, message: "sealing_public_key is not a 32-byte X25519 public key")
        }
        let agentID = AgentID()
        let name = request.name.isEmpty ? request.facts.hostname : request.name
        let issued = IssuedCertificate()
        let verdict: JoinTokenPolicy.Verdict
        do {
            verdict = try await store.joinTokens.consume(
                token.id, presentedSHA256: token.secretSHA256, now: now, sourceAddress: peer,
                agent: { [keys, configuration] in
                    // Reached only once the token is valid: nothing is signed for a bad token.
                    let certificate: Certificate
                    do {
                        certificate = try keys.ca.issueAgentCertificate(
                            csr: csr.request, agentID: agentID.uuid, now: now,
                            validity: configuration.agents.certificateLifetimeSeconds)
                        let pem = try AgentKeyPair.pem(of: certificate)
                        issued.pem.withLock { $0 = pem }
                    } catch {
                        throw CSRRefused(reason: "\(error)")
                    }
                    return NewAgent(
                        id: agentID, name: String(name.prefix(128)),
                        certificateSerial: AgentIdentity.serialHex(certificate),
                        certificateNotAfter: certificate.notValidAfter,
                        agentVersion: String(request.agentVersion.prefix(64)), hostFacts: HostFacts(request.facts),
                        sealingPublicKey: sealingKey)
                },
                audit: { verdict in
                    AuditEntry(
                        time: now, actor: "join_token:\(token.id)",
                        action: verdict == .valid ? "agent.enroll" : "join_token.use.refused",
                        target: verdict == .valid ? "agent:\(agentID)" : "join_token:\(token.id)", sourceAddress: peer,
                        details: ["outcome": verdict.rawValue, "name": String(name.prefix(128))])
                })
        } catch let error as CSRRefused {
            throw RPCError(code: .invalidArgument, message: "the CSR was refused: \(error.reason)")
        }
        switch verdict {
        case .valid:
            break
        case .unknown, .wrongSecret:
            throw RPCError(code: .unauthenticated, message: "join token not recognised")
        case .expired, .revoked, .exhausted:
            throw RPCError(code: .permissionDenied, message: "join token is \(verdict.rawValue)")
        }
        guard let certificate = issued.pem.withLock({ $0 }) else {
            throw RPCError(code: .internalError, message: "the agent certificate could not be encoded")
        }
        logger.info("agent enrolled", metadata: [LogKey.agentID: "\(agentID)", LogKey.address: "\(peer)"])
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
        // This task lives as long as the stream, and a Swift task keeps the frames of the deepest
        // calls it ever made until it ends (`inShortLivedTask`). So it only reads the stream: the
        // stream's setup and each message's work run in child tasks that end with them. (This
        // function's own frame, with setup and logging inlined, was 26 KB a stream.)
        // The caller is authenticated before a message of its stream is read.
        let peer = try await inShortLivedTask { [self] in try await self.authenticate(context) }
        var messages = request.makeAsyncIterator()
        let first = try await messages.next()
        let stream = try await inShortLivedTask { [self] in
            try await self.openStream(peer: peer, hello: first, response: response)
        }
        do {
            try await serve(stream, messages: &messages)
        } catch {
            await streamEnded(stream)
            throw error
        }
        await streamEnded(stream)
    }

    /// Dispatches to the stream while it reads the agent's messages, each handled in a child task.
    @inline(never)
    private func serve(
        _ stream: OpenStream, messages: inout RPCAsyncSequence<Chom_Agent_V1_AgentMessage, any Error>.AsyncIterator
    ) async throws {
        let connection = stream.connection
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await dispatcher.serve(connection) }
            while let message = try await messages.next() {
                try await inShortLivedTask {
                    try await stream.handler.handle(message, from: connection.agentID, on: connection)
                }
                if message.event.isResult { connection.wake.signal() }
            }
            group.cancelAll()
        }
    }

    /// An agent's stream: its connection and the handler of its messages.
    private struct OpenStream: Sendable {
        let connection: AgentConnection
        let handler: AgentMessageHandler
    }

    /// Checks that an authenticated stream begins with a hello, records what the hello says and
    /// registers the stream.
    @inline(never)
    private func openStream(
        peer: PeerIdentity, hello first: Chom_Agent_V1_AgentMessage?, response: RPCWriter<Chom_Agent_V1_CoordinatorMessage>
    ) async throws -> OpenStream {
        let agentID = AgentID(peer.agentID)
        var logger = logger
        logger[metadataKey: LogKey.agentID] = "\(agentID)"
        guard case .hello(let hello)? = first?.event else {
            throw RPCError(code: .failedPrecondition, message: "the first message on a stream must be hello")
        }
        try await streamOpened(agentID, hello: hello, peer: peer, logger: logger)
        let connection = AgentConnection(
            agentID: agentID, acceptedThrough: Int64(clamping: hello.highestSequence), writer: response)
        await connections.register(connection)
        metrics.set(streams: await connections.count)
        logger.info("agent connected", metadata: [LogKey.capabilities: "\(hello.capabilities.prefix(16).joined(separator: ","))"])
        var handler = AgentMessageHandler(
            store: store, keys: keys, configuration: configuration, metrics: metrics, clock: clock, logger: logger)
        handler.reconciler = InventoryApplier(
            store: store, tasks: layoutConvergence.tasks, grace: configuration.reconcile.staleGraceSeconds, logger: logger)
        return OpenStream(connection: connection, handler: handler)
    }

    /// What a stream's hello sets in the store: the agent connected, its addresses, and its sites'
    /// layout converged.
    private func streamOpened(
        _ agentID: AgentID, hello: Chom_Agent_V1_Hello, peer: PeerIdentity, logger: Logger
    ) async throws {
        try await store.agents.connected(
            agentID, version: String(hello.agentVersion.prefix(64)),
            highestSequenceSeen: Int64(clamping: hello.highestSequence),
            metricsAddress: MetricsAddress.resolve(reported: hello.metricsAddress, remotePeer: peer.remoteAddress),
            now: clock.now())
        try await store.fleet.announced(
            agentID,
            addresses: PublicAddresses.resolve(
                reported: hello.publicAddresses, remotePeer: peer.remoteAddress,
                allowInternal: configuration.agents.allowInternalAddresses),
            httpPort: PublicAddresses.httpPort(hello.httpPort), capabilities: Array(hello.capabilities.prefix(16)))
        // Never a reason to refuse the stream: a failure leaves the layout unclaimed, tried again next hello.
        do {
            if let queued = try await layoutConvergence.converge(
                agentID, capabilities: Array(hello.capabilities.prefix(16)), now: clock.now())
            {
                logger.info("agent announced the site layout: its sites converge", metadata: ["chom.sites": "\(queued)"])
            }
        } catch {
            logger.error("site layout convergence failed", metadata: [LogKey.error: "\(error)"])
        }
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

    /// Presigned URLs for the object of one of the caller's running tasks (`StoragePresignPolicy`).
    /// The task is read from the store, so the object, its kind and its state are the coordinator's,
    /// never the agent's word.
    func presignStorage(
        request: Chom_Agent_V1_PresignStorageRequest, context: ServerContext
    ) async throws -> Chom_Agent_V1_PresignStorageResponse {
        let peer = try await authenticate(context)
        let storage = BackupStorage(configuration: configuration.backups, logger: logger)
        guard storage.isObjectStorage else {
            throw RPCError(code: .failedPrecondition, message: "this fleet keeps backups in local directories")
        }
        let operation: PresignedOperation
        do {
            operation = try PresignedOperation(request)
        } catch {
            throw RPCError(code: .invalidArgument, message: error.message)
        }
        var stored: TaskRecord?
        if let id = TaskID(request.taskID) { stored = try await store.tasks.get(id) }
        let facts = stored.map { task in
            StoragePresignPolicy.TaskFacts(
                agent: task.agentID, state: task.state, kind: task.kind,
                objectKey: StoragePresignPolicy.objectKey(ofPayload: task.payload))
        }
        switch StoragePresignPolicy.decide(task: facts, caller: AgentID(peer.agentID), operation: operation) {
        case .refuse(let refusal):
            logger.warning(
                "presign refused",
                metadata: [LogKey.agentID: "\(peer.agentID)", LogKey.taskID: "\(request.taskID.prefix(64))",
                           LogKey.refusal: "\(refusal)"])
            throw RPCError(code: refusal == .noSuchTask ? .notFound : .permissionDenied, message: refusal.description)
        case .sign(let objectKey):
            let signed: [PresignedHTTPRequest]
            do {
                signed = try storage.presign(operation, objectKey: objectKey, now: clock.now())
            } catch {
                logger.error("presigning failed", metadata: [LogKey.error: "\(error)"])
                throw RPCError(code: .unavailable, message: "the coordinator could not presign: \(error)")
            }
            var response = Chom_Agent_V1_PresignStorageResponse()
            response.requests = signed.map(\.wire)
            return response
        }
    }

    /// The first refused enrollment of a run from `address` (later ones in the run are not written,
    /// so a flood cannot grow the audit log).
    private func auditThrottled(address: String, peer: String, now: Date) async throws {
        try await store.write(now: now) { transaction in
            try await transaction.record(AuditEntry(
                time: now, actor: "address:\(address)", action: "agent.enroll.throttled", target: "address:\(address)",
                sourceAddress: peer,
                details: [
                    "failures": "\(configuration.agents.enrollmentFailuresPerAddress)",
                    "windowSeconds": "\(Int(configuration.agents.enrollmentWindowSeconds))",
                ]))
        }
        logger.warning("enrollment throttled", metadata: [LogKey.address: "\(address)"])
    }

    /// Forgets the stream; the agent is offline until it reconnects (on this or another replica).
    @inline(never)
    private func streamEnded(_ stream: OpenStream) async {
        let connection = stream.connection
        await connections.unregister(connection)
        metrics.set(streams: await connections.count)
        if await !connections.hasConnection(connection.agentID) {
            try? await store.agents.disconnected(connection.agentID)
        }
        stream.handler.logger.info("agent stream ended")
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

/// The CSR of a valid join token could not be signed (the token's use is rolled back with it).
private struct CSRRefused: Error {
    let reason: String
}

/// The certificate signed inside the join token's transaction, as PEM, for the response.
private final class IssuedCertificate: Sendable {
    let pem = Mutex<String?>(nil)
}

extension Chom_Agent_V1_AgentMessage.OneOf_Event? {
    var isResult: Bool {
        if case .result? = self { return true }
        return false
    }
}
