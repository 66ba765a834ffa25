package import CHOMCore
package import CHOMProtocol
import CHOMTransport
package import Crypto
package import Foundation
package import X509

/// `identity/agent.json`: who this agent is and where its coordinator lives. No secrets.
package struct AgentIdentityRecord: Sendable, Codable, Equatable {
    package var agentID: String
    package var coordinatorHost: String
    package var enrollPort: Int
    package var connectPort: Int
    /// The pinned fleet CA fingerprint (lowercase hex SHA-256 of its DER).
    package var caSHA256: String
    package var name: String

    package init(
        agentID: String, coordinatorHost: String, enrollPort: Int, connectPort: Int, caSHA256: String, name: String
    ) {
        self.agentID = agentID
        self.coordinatorHost = coordinatorHost
        self.enrollPort = enrollPort
        self.connectPort = connectPort
        self.caSHA256 = caSHA256
        self.name = name
    }
}

/// One coordinator envelope-signing key, as `identity/envelope-keys.json` stores it.
package struct EnvelopeKeyRecord: Sendable, Codable, Equatable {
    package var keyID: String
    /// Raw 32-byte Ed25519 public key.
    package var publicKey: Data

    package init(keyID: String, publicKey: Data) {
        self.keyID = keyID
        self.publicKey = publicKey
    }
}

/// Everything the agent got at enrollment (and renewal): its key, its client certificate,
/// the fleet CA and the keys that sign its tasks.
package struct EnrolledIdentity: Sendable {
    package var record: AgentIdentityRecord
    package var agentID: AgentID
    /// Never logged. Secret: stored only through `PrivateFile` (0600).
    package var privateKey: P256.Signing.PrivateKey
    package var certificate: Certificate
    package var certificatePEM: String
    package var caCertificate: Certificate
    package var caPEM: String
    package var envelopeKeys: [EnvelopeKeyRecord]

    package init(
        record: AgentIdentityRecord, privateKey: P256.Signing.PrivateKey, certificatePEM: String, caPEM: String,
        envelopeKeys: [EnvelopeKeyRecord]
    ) throws {
        guard let agentID = AgentID(record.agentID) else {
            throw CHOMError(.integrity, "agent.json holds an agent id that is not a UUID")
        }
        let certificate: Certificate
        let ca: Certificate
        do {
            certificate = try AgentKeyPair.certificate(pem: certificatePEM)
            ca = try AgentKeyPair.certificate(pem: caPEM)
        } catch {
            throw CHOMError(.integrity, "the stored certificate or CA is not a valid PEM certificate")
        }
        guard certificate.publicKey == Certificate.PublicKey(privateKey.publicKey) else {
            throw CHOMError(.integrity, "the stored client certificate does not belong to the stored key")
        }
        self.record = record
        self.agentID = agentID
        self.privateKey = privateKey
        self.certificate = certificate
        self.certificatePEM = certificatePEM
        self.caCertificate = ca
        self.caPEM = caPEM
        self.envelopeKeys = envelopeKeys
    }

    /// The keys `EnvelopeOpener` trusts.
    package func trustedKeys() throws -> TrustedEnvelopeKeys {
        do {
            return try TrustedEnvelopeKeys(raw: envelopeKeys.map(\.publicKey))
        } catch {
            throw CHOMError(.integrity, "a stored envelope key is not a 32-byte Ed25519 public key")
        }
    }

    /// The private key as PEM, for the TLS configuration. Secret.
    package var privateKeyPEM: String { privateKey.pemRepresentation }
}
