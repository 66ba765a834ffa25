import Foundation

/// The parsed form of `chomsec:v1:<keyID>:<base64url(nonce ‖ ciphertext ‖ tag)>`:
/// a 12-byte AES-GCM nonce, the ciphertext (as long as the plaintext) and a 16-byte tag.
struct SealedSecretText: Sendable {
    static let scheme = "chomsec"
    static let version = "v1"
    static let nonceByteCount = 12
    static let tagByteCount = 16

    let keyID: String
    /// nonce ‖ ciphertext ‖ tag, AES-GCM's combined representation.
    let combined: Data

    init(keyID: String, combined: Data) {
        self.keyID = keyID
        self.combined = combined
    }

    init(parsing text: String) throws(SecretBoxError) {
        let parts = text.split(separator: ":", maxSplits: 3, omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == Self.scheme else {
            throw .malformed(reason: "expected chomsec:v1:<key id>:<base64url>")
        }
        guard parts[1] == Self.version else {
            let version = parts[1].prefix(16)
            guard version.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) else {
                throw .malformed(reason: "the format version is not alphanumeric")
            }
            throw .unsupportedVersion(String(version))
        }
        let keyID = String(parts[2])
        guard KeyRing.isValidKeyID(keyID) else { throw .malformed(reason: "the key id is invalid") }
        guard let combined = SecurityCoding.bytes(base64URL: parts[3]) else {
            throw .malformed(reason: "the payload is not unpadded base64url")
        }
        guard combined.count >= Self.nonceByteCount + Self.tagByteCount else {
            throw .malformed(reason: "the payload is shorter than a nonce and a tag")
        }
        self.keyID = keyID
        self.combined = combined
    }

    var text: String {
        "\(Self.scheme):\(Self.version):\(keyID):\(SecurityCoding.base64URL(combined))"
    }

    /// The key id of a text that looks like a sealed secret of this version, without
    /// decoding its payload; nil otherwise.
    static func keyID(of text: String) -> String? {
        let parts = text.split(separator: ":", maxSplits: 3, omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == scheme, parts[1] == version else { return nil }
        return String(parts[2])
    }
}
