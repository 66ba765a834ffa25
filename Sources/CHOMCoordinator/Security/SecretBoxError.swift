package import CHOMCore

/// Why a key ring could not be loaded or a sealed secret could not be opened.
/// Descriptions name key ids, entry positions and file paths, never key material,
/// plaintext or ciphertext.
package enum SecretBoxError: Error, Equatable, Sendable, CustomStringConvertible {
    // Loading the key ring (configuration errors).

    /// No key at all: the configuration and the key file hold no entry.
    case emptyKeyRing
    /// Entry `entry` (1-based; a line of a key file) is not `keyID:base64key`.
    case malformedKeyEntry(entry: Int)
    /// Entry `entry` has a key id outside `[A-Za-z0-9._-]{1,64}`. The id is not echoed:
    /// with the two halves swapped it would be the key.
    case invalidKeyID(entry: Int)
    /// The key of `keyID` is not base64.
    case invalidKeyEncoding(keyID: String)
    /// The key of `keyID` does not decode to 32 bytes.
    case invalidKeyLength(keyID: String, byteCount: Int)
    /// Two entries share a key id.
    case duplicateKeyID(String)
    /// The key chosen as active is not in the ring.
    case unknownActiveKey(String)
    /// The key file cannot be read or is not UTF-8.
    case unreadableKeyFile(path: String)

    // Opening a sealed secret (integrity errors).

    /// Not `chomsec:v1:<keyID>:<base64url>`, or the payload is too short to hold nonce and tag.
    case malformed(reason: String)
    /// A `chomsec` text of another format version.
    case unsupportedVersion(String)
    /// Sealed under a key id that the ring does not hold.
    case unknownKeyID(String)
    /// AES-GCM authentication failed: the context is not the one the secret was sealed for
    /// (a ciphertext moved to another row), or the ciphertext, nonce or tag was altered.
    /// AES-GCM cannot tell these two apart: both change what the tag authenticates.
    case authenticationFailed

    /// A low-cardinality label for logs and metrics.
    package var reason: String {
        switch self {
        case .emptyKeyRing: "empty_key_ring"
        case .malformedKeyEntry: "malformed_key_entry"
        case .invalidKeyID: "invalid_key_id"
        case .invalidKeyEncoding: "invalid_key_encoding"
        case .invalidKeyLength: "invalid_key_length"
        case .duplicateKeyID: "duplicate_key_id"
        case .unknownActiveKey: "unknown_active_key"
        case .unreadableKeyFile: "unreadable_key_file"
        case .malformed: "malformed"
        case .unsupportedVersion: "unsupported_version"
        case .unknownKeyID: "unknown_key_id"
        case .authenticationFailed: "authentication_failed"
        }
    }

    /// The CHOM error code this maps to: configuration for the ring, integrity for a secret.
    package var code: CHOMError.Code {
        switch self {
        case .emptyKeyRing, .malformedKeyEntry, .invalidKeyID, .invalidKeyEncoding, .invalidKeyLength,
            .duplicateKeyID, .unknownActiveKey, .unreadableKeyFile:
            .configuration
        case .malformed, .unsupportedVersion, .unknownKeyID, .authenticationFailed:
            .integrity
        }
    }

    package var description: String {
        switch self {
        case .emptyKeyRing: "the secrets key ring is empty: configure at least one keyID:base64key"
        case .malformedKeyEntry(let entry): "secrets key entry \(entry) is not keyID:base64key"
        case .invalidKeyID(let entry): "secrets key entry \(entry) has an invalid key id (allowed: A-Z a-z 0-9 . _ -, 1 to 64)"
        case .invalidKeyEncoding(let keyID): "secrets key \(keyID) is not base64"
        case .invalidKeyLength(let keyID, let count): "secrets key \(keyID) is \(count) bytes; AES-256 needs 32"
        case .duplicateKeyID(let keyID): "secrets key id \(keyID) appears more than once"
        case .unknownActiveKey(let keyID): "the active secrets key \(keyID) is not in the key ring"
        case .unreadableKeyFile(let path): "cannot read the secrets key file \(path)"
        case .malformed(let reason): "the sealed secret is malformed: \(reason)"
        case .unsupportedVersion(let version): "the sealed secret has unsupported format version \(version)"
        case .unknownKeyID(let keyID): "the secret is sealed under key \(keyID), which is not in the key ring"
        case .authenticationFailed: "the secret does not authenticate: wrong context or altered ciphertext"
        }
    }

    /// The same failure as a `CHOMError`, for callers that report CHOM errors.
    package func chomError(file: String = #fileID, line: Int = #line) -> CHOMError {
        CHOMError(code, description, underlying: self, file: file, line: line)
    }
}
