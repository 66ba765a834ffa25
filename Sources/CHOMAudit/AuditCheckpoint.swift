import CHOMCore
package import Crypto
package import Foundation

/// A signed statement "the audit chain had `headHash` at `sequence` at `time`", made every N
/// entries or M minutes with the coordinator's Ed25519 key, stored in a table and exported
/// (as JSON lines) outside the database. With it, verification detects a truncated tail and
/// a chain recomputed after tampering, which the hash chain alone cannot.
///
/// The signature covers, in order:
///
///     "chom-audit-checkpoint-v1" 0x00   domain tag (25 bytes)
///     sequence                          8 bytes, big-endian two's complement
///     headHash                          4-byte big-endian length (32) ‖ the 32 bytes
///     time                              4-byte big-endian length (24) ‖ RFC 3339 UTC, milliseconds
///     keyID                             4-byte big-endian length ‖ UTF-8
///
/// The tag keeps these signatures from being valid for any other use of the key.
package struct AuditCheckpoint: Sendable, Hashable {
    package static let domainTag: [UInt8] = Array("chom-audit-checkpoint-v1".utf8) + [0]

    package var sequence: Int64
    package var headHash: [UInt8]
    /// Rounded to the millisecond, the precision that is signed.
    package var time: Date
    /// Which key signed: the first 8 bytes of SHA-256 of the raw public key, lowercase hex.
    package var keyID: String
    /// The 64-byte Ed25519 signature over `signedBytes`.
    package var signature: [UInt8]

    package init(sequence: Int64, headHash: [UInt8], time: Date, keyID: String, signature: [UInt8]) {
        self.sequence = sequence
        self.headHash = headHash
        self.time = AuditTimestamp.normalized(time)
        self.keyID = keyID
        self.signature = signature
    }

    /// Signs the chain's head. `headHash` must be a 32-byte SHA-256.
    package static func sign(
        sequence: Int64, headHash: [UInt8], time: Date, key: Curve25519.Signing.PrivateKey
    ) throws -> AuditCheckpoint {
        guard headHash.count == AuditChain.hashByteCount else {
            throw CHOMError(.invalidInput, "an audit checkpoint signs a 32-byte head hash, not \(headHash.count) bytes")
        }
        let keyID = keyID(of: key.publicKey)
        let bytes = signedBytes(sequence: sequence, headHash: headHash, time: time, keyID: keyID)
        let signature: Data
        do {
            signature = try key.signature(for: bytes)
        } catch {
            throw CHOMError(.internal, "cannot sign the audit checkpoint", underlying: error)
        }
        return AuditCheckpoint(
            sequence: sequence, headHash: headHash, time: time, keyID: keyID, signature: Array(signature))
    }

    /// Signs `head` (as read after the last append).
    package static func sign(head: AuditChain.Head, time: Date, key: Curve25519.Signing.PrivateKey) throws
        -> AuditCheckpoint
    {
        try sign(sequence: head.sequence, headHash: head.hash, time: time, key: key)
    }

    /// True when a key among `publicKeys` has this checkpoint's key id and its signature verifies.
    package func verify(publicKeys: [Curve25519.Signing.PublicKey]) -> Bool {
        guard headHash.count == AuditChain.hashByteCount, signature.count == 64,
            let key = publicKeys.first(where: { Self.keyID(of: $0) == keyID })
        else { return false }
        let bytes = Self.signedBytes(sequence: sequence, headHash: headHash, time: time, keyID: keyID)
        return key.isValidSignature(signature, for: bytes)
    }

    /// The bytes the signature covers (layout above).
    package static func signedBytes(sequence: Int64, headHash: [UInt8], time: Date, keyID: String) -> Data {
        var writer = CanonicalWriter()
        writer.append(raw: domainTag)
        writer.append(sequence)
        writer.append(utf8: headHash)
        writer.append(utf8: AuditTimestamp.utf8(time))
        writer.append(keyID)
        return Data(writer.bytes)
    }

    /// The first 8 bytes of SHA-256 of the raw public key, lowercase hex (as envelope keys).
    package static func keyID(of publicKey: Curve25519.Signing.PublicKey) -> String {
        Hex.encode(SHA256.hash(data: publicKey.rawRepresentation).prefix(8))
    }

    /// Whether a new checkpoint is due: `everyEntries` entries or `everyInterval` seconds since
    /// the last one (when at least one entry was appended since), or none yet and the chain is
    /// not empty.
    package static func isDue(
        last: AuditCheckpoint?, head: AuditChain.Head, now: Date, everyEntries: Int64, everyInterval: TimeInterval
    ) -> Bool {
        guard head.sequence > 0 else { return false }
        guard let last else { return true }
        let appended = head.sequence - last.sequence
        guard appended > 0 else { return false }
        return appended >= everyEntries || now.timeIntervalSince(last.time) >= everyInterval
    }
}
