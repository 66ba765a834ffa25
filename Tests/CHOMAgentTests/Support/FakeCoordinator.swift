import CHOMAgent
import CHOMCore
import CHOMProtocol
import CHOMTransport
import Crypto
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Synchronization
import X509

/// A minimal coordinator for in-process tests: a real fleet CA and server certificate, the
/// enrollment listener (server TLS) and the agent listener (mutual TLS) on 127.0.0.1:0, and a
/// scriptable AgentGateway.
final class FakeCoordinator: Sendable {
    let ca: FleetCA
    let signer = EnvelopeSigner(privateKey: Curve25519.Signing.PrivateKey())
    let joinToken = "chom_join_" + UUID().uuidString.lowercased()
    let serverCertificate: Certificate
    let serverKey: P256.Signing.PrivateKey
    let gateway: Gateway

    init(hostnames: [String] = ["localhost"], ipAddresses: [String] = ["127.0.0.1"], now: Date = Date()) throws {
        ca = try FleetCA.create(commonName: "Test Fleet CA", now: now)
        serverKey = P256.Signing.PrivateKey()
        serverCertificate = try ca.issueServerCertificate(
            publicKey: serverKey.publicKey, hostnames: hostnames, ipAddresses: ipAddresses, now: now,
            validity: 86400)
        gateway = Gateway(ca: ca, signer: signer, joinToken: joinToken)
    }

    var pin: String { ca.fingerprintSHA256 }

    /// Runs both listeners (with the coordinator's real TLS settings, `CoordinatorTLS`) around
    /// `body(enrollPort, connectPort)`.
    @discardableResult
    func run<R: Sendable>(_ body: (_ enrollPort: Int, _ connectPort: Int) async throws -> R) async throws -> R {
        let enrollTransport = HTTP2ServerTransport.Posix(
            address: .ipv4(host: "127.0.0.1", port: 0),
            transportSecurity: try CoordinatorTLS.enrollment(
                serverCertificate: serverCertificate, serverKey: serverKey, caCertificate: ca.certificate))
        let agentTransport = HTTP2ServerTransport.Posix(
            address: .ipv4(host: "127.0.0.1", port: 0),
            transportSecurity: try CoordinatorTLS.agents(
                serverCertificate: serverCertificate, serverKey: serverKey, caCertificate: ca.certificate))
        return try await withGRPCServer(transport: enrollTransport, services: [gateway]) { _ in
            try await withGRPCServer(transport: agentTransport, services: [gateway]) { _ in
                let enrollPort = try await enrollTransport.listeningAddress.ipv4!.port
                let connectPort = try await agentTransport.listeningAddress.ipv4!.port
                gateway.connectPort.withLock { $0 = connectPort }
                return try await body(enrollPort, connectPort)
            }
        }
    }

    /// The AgentGateway service: Enroll issues certificates, Connect records what the agent
    /// sends and forwards what the test queues, FetchArtifact serves artifacts from memory.
    final class Gateway: Chom_Agent_V1_AgentGateway.SimpleServiceProtocol {
        let ca: FleetCA
        let signer: EnvelopeSigner
        let joinToken: String
        let connectPort = Mutex(0)
        let enrollCalls = Mutex(0)
        let received = Mutex<[Chom_Agent_V1_AgentMessage]>([])
        let peers = Mutex<[UUID]>([])
        let peerSerials = Mutex<[String]>([])
        let artifacts = Mutex<[String: Data]>([:])
        private let outbox = Mutex<AsyncStream<Chom_Agent_V1_CoordinatorMessage>.Continuation?>(nil)

        init(ca: FleetCA, signer: EnvelopeSigner, joinToken: String) {
            self.ca = ca
            self.signer = signer
            self.joinToken = joinToken
        }

        func enroll(
            request: Chom_Agent_V1_EnrollRequest, context: ServerContext
        ) async throws -> Chom_Agent_V1_EnrollResponse {
            enrollCalls.withLock { $0 += 1 }
            guard request.joinToken == joinToken else {
                throw RPCError(code: .permissionDenied, message: "join token is invalid or expired")
            }
            let agentID = UUID()
            let csr = try AgentKeyPair.csr(pem: request.csrPem)
            let certificate = try ca.issueAgentCertificate(csr: csr, agentID: agentID, now: Date(), validity: 3600)
            var response = Chom_Agent_V1_EnrollResponse()
            response.agentID = agentID.uuidString.lowercased()
            response.certificatePem = try AgentKeyPair.pem(of: certificate)
            response.caPem = ca.certificatePEM
            var key = Chom_Agent_V1_EnvelopeKey()
            key.keyID = signer.keyID
            key.publicKey = signer.publicKey.rawRepresentation
            response.envelopeKeys = [key]
            response.connectPort = UInt32(connectPort.withLock { $0 })
            return response
        }

        func connect(
            request: RPCAsyncSequence<Chom_Agent_V1_AgentMessage, any Error>,
            response: RPCWriter<Chom_Agent_V1_CoordinatorMessage>,
            context: ServerContext
        ) async throws {
            let peer = (context.transportSpecific as? HTTP2ServerTransport.Posix.Context)?.peerCertificate
            let agentID = peer.flatMap { AgentIdentity.agentID(from: $0) }
            if let peer, let agentID {
                peers.withLock { $0.append(agentID) }
                peerSerials.withLock { $0.append(AgentIdentity.serialHex(peer)) }
            }
            let (stream, continuation) = AsyncStream.makeStream(of: Chom_Agent_V1_CoordinatorMessage.self)
            outbox.withLock { $0 = continuation }
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await message in stream { try await response.write(message) }
                }
                for try await message in request {
                    received.withLock { $0.append(message) }
                    // A renew with no CSR only registers the agent's sealing key: nothing to answer.
                    if case .renew(let renew) = message.event, !renew.csrPem.isEmpty, let agentID {
                        // Renewed certificates live a day: the agent is not due again at once.
                        var answer = Chom_Agent_V1_CoordinatorMessage()
                        let csr = try AgentKeyPair.csr(pem: renew.csrPem)
                        let certificate = try ca.issueAgentCertificate(
                            csr: csr, agentID: agentID, now: Date(), validity: 86400)
                        answer.renewed.certificatePem = try AgentKeyPair.pem(of: certificate)
                        continuation.yield(answer)
                    }
                }
                group.cancelAll()
            }
        }

        func fetchArtifact(
            request: Chom_Agent_V1_FetchArtifactRequest, response: RPCWriter<Chom_Agent_V1_ArtifactChunk>,
            context: ServerContext
        ) async throws {
            guard let data = artifacts.withLock({ $0[request.releaseID] }) else {
                throw RPCError(code: .notFound, message: "no such release")
            }
            var offset = data.startIndex
            while offset < data.endIndex {
                let end = min(offset + 16 * 1024, data.endIndex)
                var chunk = Chom_Agent_V1_ArtifactChunk()
                chunk.data = data[offset..<end]
                try await response.write(chunk)
                offset = end
            }
        }

        /// This fake holds no bucket: nothing is presigned.
        func presignStorage(
            request: Chom_Agent_V1_PresignStorageRequest, context: ServerContext
        ) async throws -> Chom_Agent_V1_PresignStorageResponse {
            throw RPCError(code: .failedPrecondition, message: "the fake coordinator keeps no object storage")
        }

        /// Sends `message` down the current Connect stream.
        func send(_ message: Chom_Agent_V1_CoordinatorMessage) {
            _ = outbox.withLock { $0?.yield(message) }
        }

        /// Waits (polling) until the agent sent a message matching `predicate`.
        func waitFor(
            timeout: Duration = .seconds(10), _ predicate: (Chom_Agent_V1_AgentMessage) -> Bool
        ) async throws -> Chom_Agent_V1_AgentMessage {
            let deadline = ContinuousClock.now + timeout
            while ContinuousClock.now < deadline {
                if let match = received.withLock({ $0.first(where: predicate) }) { return match }
                try await Task.sleep(for: .milliseconds(10))
            }
            throw CHOMError(.unavailable, "the agent did not send the expected message in time")
        }

        func clearReceived() {
            received.withLock { $0.removeAll() }
        }
    }
}
