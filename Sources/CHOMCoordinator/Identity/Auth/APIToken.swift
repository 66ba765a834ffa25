package import CHOMCore
import Crypto
import Foundation


/// An API token as handed to its owner once:
/// `chom_` + token id (22 base62, the UUID's 16 bytes) + secret (43 base62, 32 random bytes)
/// + checksum (6 base62, CRC-32 of everything before it).
///
/// The fixed prefix and length let secret scanners recognise a token, and the checksum lets them and the
/// server refuse a mistyped or truncated one without a database lookup. Only `secretSHA256` is stored.
/// `description` never shows the secret; `token` is the one place it appears.
package struct APIToken: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    package static let prefix = "chom_"
    package static let idLength = 22
    package static let secretLength = 43
    package static let checksumLength = 6
    package static let length = prefix.utf8.count + idLength + secretLength + checksumLength  // 76
    package static let secretByteCount = 32

    package let id: APITokenID
    /// The secret's 43 base62 characters.
    package let secret: String

    /// A new token with a fresh id and 32 random bytes of secret.
    package static func generate(id: APITokenID = APITokenID()) -> APIToken {
        let bytes = SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }
        return APIToken(id: id, secretBytes: bytes)
    }

    /// A token from known secret bytes (exactly 32). For tests and known-answer checks.
    package init(id: APITokenID, secretBytes: [UInt8]) {
        precondition(secretBytes.count == Self.secretByteCount, "an API token secret is 32 bytes")
        self.id = id
        self.secret = Base62.encode(secretBytes)
    }

    /// Parses a presented token; nil for anything malformed: wrong prefix or length, a character outside
    /// base62, an id or secret that does not fit its bytes, or a checksum that does not match.
    package init?(parsing token: String) {
        let utf8 = Array(token.utf8)
        let prefix = Array(Self.prefix.utf8)
        guard utf8.count == Self.length, utf8.starts(with: prefix) else { return nil }
        let idEnd = prefix.count + Self.idLength
        let secretEnd = idEnd + Self.secretLength
        let idText = String(decoding: utf8[prefix.count..<idEnd], as: UTF8.self)
        let secretText = String(decoding: utf8[idEnd..<secretEnd], as: UTF8.self)
        let checksumText = String(decoding: utf8[secretEnd...], as: UTF8.self)
        guard let idBytes = Base62.decode(idText, byteCount: 16),
            Base62.decode(secretText, byteCount: Self.secretByteCount) != nil,
            let checksumBytes = Base62.decode(checksumText, byteCount: 4),
            checksumBytes.reduce(UInt32(0), { $0 << 8 | UInt32($1) }) == CRC32.checksum(utf8[..<secretEnd])
        else { return nil }
        self.id = APITokenID(UUID(bytes: idBytes))
        self.secret = secretText
    }

    /// The string shown once to the owner.
    package var token: String {
        let body = Self.prefix + Self.encode(id: id) + secret
        return body + Self.encode(checksum: CRC32.checksum(body))
    }

    /// What is stored and compared: SHA-256 of the secret's characters.
    package var secretSHA256: [UInt8] { Array(SHA256.hash(data: Data(secret.utf8))) }

    /// Whether `storedSHA256` is this token's secret digest, compared in constant time.
    package func matches(secretSHA256 storedSHA256: [UInt8]) -> Bool {
        JoinTokenPolicy.constantTimeEqual(secretSHA256, storedSHA256)
    }

    package var description: String { "APIToken(\(id))" }
    package var debugDescription: String { description }

    private static func encode(id: APITokenID) -> String {
        Base62.encode(withUnsafeBytes(of: id.uuid.uuid) { Array($0) })
    }

    private static func encode(checksum: UInt32) -> String {
        Base62.encode([UInt8(checksum >> 24), UInt8(checksum >> 16 & 0xFF), UInt8(checksum >> 8 & 0xFF), UInt8(checksum & 0xFF)])
    }
}

extension UUID {
    /// A UUID from exactly 16 bytes.
    fileprivate init(bytes b: [UInt8]) {
        self.init(uuid: (b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]))
    }
}
