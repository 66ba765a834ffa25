package import CHOMCore
import Crypto
import Foundation

/// A join token as handed to an operator once: `chomjoin_<token id, 32 hex>_<secret, 64 hex>`.
/// The prefix lets secret scanners recognise it; only SHA-256 of the secret is stored.
package struct JoinTokenSecret: Sendable, Equatable {
    package static let prefix = "chomjoin_"

    package let id: JoinTokenID
    package let secret: String

    package static func generate() -> JoinTokenSecret {
        let bytes = SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }
        return JoinTokenSecret(id: JoinTokenID(), secret: Hex.encode(bytes))
    }

    init(id: JoinTokenID, secret: String) {
        self.id = id
        self.secret = secret
    }

    /// Parses a presented token; nil for anything malformed.
    package init?(parsing token: String) {
        guard token.hasPrefix(Self.prefix) else { return nil }
        let parts = token.dropFirst(Self.prefix.count).split(separator: "_", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count == 32, parts[1].count == 64,
            parts[1].allSatisfy(\.isHexDigit), parts[0].allSatisfy(\.isHexDigit)
        else { return nil }
        let hex = Array(parts[0])
        let uuidString = [0..<8, 8..<12, 12..<16, 16..<20, 20..<32].map { String(hex[$0]) }.joined(separator: "-")
        guard let id = JoinTokenID(uuidString) else { return nil }
        self.id = id
        self.secret = String(parts[1]).lowercased()
    }

    /// The string shown once to the operator.
    package var token: String {
        Self.prefix + id.uuid.uuidString.lowercased().replacingOccurrences(of: "-", with: "") + "_" + secret
    }

    package var secretSHA256: [UInt8] { Array(SHA256.hash(data: Data(secret.utf8))) }
}
