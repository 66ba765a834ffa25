package import CHOMCore
package import CHOMProtocol
import CHOMTransport
import Crypto
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
package import Logging
import X509

/// First contact with the coordinator: a key generated here (it never leaves the host), a CSR,
/// `Enroll` over TLS pinned by the CA's SHA-256, then the identity stored under `identity/`.
package struct Enroller: Sendable {
    package var store: AgentIdentityStore
    package var agentVersion: String
    package var timeout: Duration
    package var clock: any WallClock
    package var logger: Logger

    package init(
        store: AgentIdentityStore, agentVersion: String = AgentConfiguration.defaultAgentVersion,
        timeout: Duration = .seconds(20), clock: any WallClock, logger: Logger
    ) {
        self.store = store
        self.agentVersion = agentVersion
        self.timeout = timeout
        self.clock = clock
        self.logger = logger
    }

    /// Enrolls and stores the identity. `token` is the join token: it is sent once and never logged.
    package func enroll(
        host: String, port: Int, token: String, caSHA256: String, name: String, facts: Chom_Agent_V1_HostFacts
    ) async throws(EnrollmentError) -> EnrolledIdentity {
        guard !store.exists else { throw .alreadyEnrolled(directory: store.directory.path) }
        guard let pin = AgentTLS.normalizedPin(caSHA256) else { throw .malformedPin }
        guard !host.isEmpty, (1...65535).contains(port) else { throw .invalidAddress("\(host):\(port)") }
        let address = CoordinatorAddress(host: host, port: port)

        let key = AgentKeyPair.generate()
        let sealingKey = Curve25519.KeyAgreement.PrivateKey()
        var request = Chom_Agent_V1_EnrollRequest()
        request.sealingPublicKey = sealingKey.publicKey.rawRepresentation
        request.joinToken = token
        request.facts = facts
        request.name = name
        request.agentVersion = agentVersion
        do {
            request.csrPem = try AgentKeyPair.pem(of: AgentKeyPair.makeCSR(privateKey: key, commonName: name))
        } catch {
            throw .invalidResponse("cannot create the certificate signing request: \(error)")
        }

        logger.info("enrolling with the coordinator", metadata: [LogKey.address: "\(address)"])
        let response = try await call(request, address: address, pin: pin)
        let identity = try validate(response, key: key, pin: pin, address: address, name: name)
        do {
            // Before the identity: agent.json (written last) means "enrolled", with its sealing key.
            try store.saveSealingKey(sealingKey)
            try store.save(identity)
        } catch {
            throw .storage(String(describing: error))
        }
        logger.info("enrolled", metadata: [LogKey.agentID: "\(identity.agentID)"])
        return identity
    }

    private func call(
        _ request: Chom_Agent_V1_EnrollRequest, address: CoordinatorAddress, pin: String
    ) async throws(EnrollmentError) -> Chom_Agent_V1_EnrollResponse {
        let observer = AgentTLS.PinObserver()
        let clock = self.clock
        let security = AgentTLS.enrollment(
            pinnedSHA256: pin, hostnameOrIP: address.host, observer: observer, now: { clock.now() })
        var options = CallOptions.defaults
        options.timeout = timeout
        options.waitForReady = false
        do {
            let transport = try HTTP2ClientTransport.Posix(
                target: address.target, transportSecurity: security)
            return try await withGRPCClient(transport: transport) { client in
                try await Chom_Agent_V1_AgentGateway.Client(wrapping: client).enroll(request, options: options)
            }
        } catch {
            if let failure = observer.failure { throw .pinRejected(failure.description) }
            if let rpc = error as? RPCError {
                switch rpc.code {
                case .unavailable, .deadlineExceeded, .cancelled:
                    throw .unreachable(Self.describe(rpc))
                default:
                    throw .rejected(code: "\(rpc.code)", message: rpc.message)
                }
            }
            throw .unreachable(String(describing: error))
        }
    }

    private func validate(
        _ response: Chom_Agent_V1_EnrollResponse, key: P256.Signing.PrivateKey, pin: String,
        address: CoordinatorAddress, name: String
    ) throws(EnrollmentError) -> EnrolledIdentity {
        guard let agentID = UUID(uuidString: response.agentID) else { throw .invalidResponse("agent id is not a UUID") }
        guard let ca = try? AgentKeyPair.certificate(pem: response.caPem) else { throw .invalidResponse("ca_pem is not a certificate") }
        let received = AgentTLS.fingerprintSHA256(of: ca) ?? "?"
        guard received == pin else { throw .caMismatch(pinned: pin, received: received) }
        guard let certificate = try? AgentKeyPair.certificate(pem: response.certificatePem) else {
            throw .invalidResponse("certificate_pem is not a certificate")
        }
        guard certificate.publicKey == Certificate.PublicKey(key.publicKey) else {
            throw .invalidResponse("the certificate is not for the key this agent generated")
        }
        guard AgentIdentity.agentID(from: certificate) == agentID else {
            throw .invalidResponse("the certificate does not name agent \(response.agentID)")
        }
        guard certificate.issuer == ca.subject, ca.publicKey.isValidSignature(certificate.signature, for: certificate) else {
            throw .invalidResponse("the certificate was not issued by the pinned CA")
        }
        guard (1...65535).contains(response.connectPort) else { throw .invalidResponse("connect_port is not a port") }
        guard !response.envelopeKeys.isEmpty else { throw .invalidResponse("no envelope signing keys") }
        var keys: [EnvelopeKeyRecord] = []
        for entry in response.envelopeKeys {
            guard let publicKey = try? Curve25519.Signing.PublicKey(rawRepresentation: entry.publicKey) else {
                throw .invalidResponse("envelope key \(entry.keyID.prefix(32)) is not a 32-byte Ed25519 key")
            }
            guard EnvelopeSigning.keyID(of: publicKey) == entry.keyID else {
                throw .invalidResponse("envelope key id \(entry.keyID.prefix(32)) does not match its key")
            }
            keys.append(EnvelopeKeyRecord(keyID: entry.keyID, publicKey: entry.publicKey))
        }
        let record = AgentIdentityRecord(
            agentID: agentID.uuidString.lowercased(), coordinatorHost: address.host, enrollPort: address.port,
            connectPort: Int(response.connectPort), caSHA256: pin, name: name)
        do {
            return try EnrolledIdentity(
                record: record, privateKey: key, certificatePEM: response.certificatePem, caPEM: response.caPem,
                envelopeKeys: keys)
        } catch {
            throw .invalidResponse(String(describing: error))
        }
    }

    /// The status message plus the root cause (e.g. the TLS alert), which is what an operator needs.
    static func describe(_ error: RPCError) -> String {
        var text = error.message
        var cause = error.cause
        while let next = cause {
            if let rpc = next as? RPCError {
                text += ": " + rpc.message
                cause = rpc.cause
            } else {
                text += ": " + String(describing: next)
                cause = nil
            }
        }
        return text
    }
}
