import CHOMCore
package import Crypto
package import Foundation

/// Seals one secret to an agent's X25519 key with HPKE (RFC 9180, base mode,
/// DHKEM(X25519, HKDF-SHA256) / HKDF-SHA256 / ChaCha20-Poly1305) and opens it on that agent.
///
/// The AAD binds the ciphertext to the task id, the audience agent and the field's path in the
/// task, so a recorded sealed secret opens neither in another task, nor for another agent, nor
/// in another field of the same task.
package enum SecretSealing {
    package static let ciphersuite = HPKE.Ciphersuite.Curve25519_SHA256_ChachaPoly
    package static let info = Data("chom-sealed-secret-v1".utf8)
    /// What an agent announces in `Hello.capabilities` when it opens sealed secrets.
    package static let capability = "sealed_secrets_v1"

    /// `task_id ‖ 0x00 ‖ audience_agent_id ‖ 0x00 ‖ field`, UTF-8.
    package static func aad(taskID: String, audience: String, field: String) -> Data {
        var bytes = Data(taskID.utf8)
        bytes.append(0)
        bytes.append(contentsOf: audience.utf8)
        bytes.append(0)
        bytes.append(contentsOf: field.utf8)
        return bytes
    }

    /// The first 8 bytes of SHA-256 of the raw 32-byte public key, lowercase hex.
    package static func keyID(of publicKey: Curve25519.KeyAgreement.PublicKey) -> String {
        Hex.encode(SHA256.hash(data: publicKey.rawRepresentation).prefix(8))
    }

    /// A raw 32-byte X25519 public key as sent in `EnrollRequest` / `RenewCertificateRequest`;
    /// nil when it has the wrong length or is all zeros.
    package static func publicKey(raw: some DataProtocol) -> Curve25519.KeyAgreement.PublicKey? {
        let bytes = Array(raw)
        guard bytes.count == 32, bytes.contains(where: { $0 != 0 }) else { return nil }
        return try? Curve25519.KeyAgreement.PublicKey(rawRepresentation: bytes)
    }

    package static func seal(
        _ plaintext: some DataProtocol, to recipient: Curve25519.KeyAgreement.PublicKey, taskID: String,
        audience: String, field: String
    ) throws -> Chom_Agent_V1_SealedSecret {
        var sender = try HPKE.Sender(recipientKey: recipient, ciphersuite: ciphersuite, info: info)
        var sealed = Chom_Agent_V1_SealedSecret()
        sealed.ciphertext = try sender.seal(plaintext, authenticating: aad(taskID: taskID, audience: audience, field: field))
        sealed.enc = sender.encapsulatedKey
        sealed.keyID = keyID(of: recipient)
        return sealed
    }

    /// Opens a sealed secret; throws `SealedSecretError` when it is for another key or does not open
    /// (wrong key, another task, agent or field, altered bytes).
    package static func open(
        _ sealed: Chom_Agent_V1_SealedSecret, with privateKey: Curve25519.KeyAgreement.PrivateKey, taskID: String,
        audience: String, field: String
    ) throws(SealedSecretError) -> Data {
        guard sealed.keyID == keyID(of: privateKey.publicKey) else {
            throw SealedSecretError(field: field, reason: "sealed to key id \(sealed.keyID.prefix(32)), not this agent's")
        }
        do {
            var recipient = try HPKE.Recipient(
                privateKey: privateKey, ciphersuite: ciphersuite, info: info, encapsulatedKey: sealed.enc)
            return try recipient.open(sealed.ciphertext, authenticating: aad(taskID: taskID, audience: audience, field: field))
        } catch {
            throw SealedSecretError(field: field, reason: "does not open")
        }
    }
}

/// A sealed secret the agent cannot open. Never carries secret bytes.
package struct SealedSecretError: Error, Equatable, Sendable, CustomStringConvertible {
    package var field: String
    package var reason: String

    package var description: String { "sealed secret \(field) \(reason)" }
}
