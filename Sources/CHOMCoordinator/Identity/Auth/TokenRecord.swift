package import Foundation

/// What the store keeps of an issued token: never the secret, only its SHA-256.
package struct TokenRecord: Sendable, Equatable {
    package enum Kind: String, Sendable, Codable {
        /// From a login; carries the user's role and nothing narrower.
        case session
        /// For automation; narrowed to its abilities.
        case personalAccess = "personal_access"
    }

    package var kind: Kind
    package var secretSHA256: [UInt8]
    package var issuedAt: Date
    package var expiresAt: Date
    package var revokedAt: Date?
    /// Set when this token was rotated: it keeps working for the grace period after.
    package var rotatedAt: Date?
    /// nil for session tokens; the abilities of a personal access token.
    package var abilities: Set<Ability>?

    package init(
        kind: Kind, secretSHA256: [UInt8], issuedAt: Date, expiresAt: Date, revokedAt: Date? = nil,
        rotatedAt: Date? = nil, abilities: Set<Ability>? = nil
    ) {
        self.kind = kind
        self.secretSHA256 = secretSHA256
        self.issuedAt = issuedAt
        self.expiresAt = expiresAt
        self.revokedAt = revokedAt
        self.rotatedAt = rotatedAt
        self.abilities = abilities
    }

    /// A new session token's record.
    package static func session(secretSHA256: [UInt8], issuedAt: Date, lifetime: TokenLifetime) -> TokenRecord {
        TokenRecord(
            kind: .session, secretSHA256: secretSHA256, issuedAt: issuedAt,
            expiresAt: lifetime.sessionExpiry(issuedAt: issuedAt))
    }

    /// A new personal access token's record, from a validated request.
    package static func personalAccess(
        _ token: PersonalAccessToken, secretSHA256: [UInt8], issuedAt: Date
    ) -> TokenRecord {
        TokenRecord(
            kind: .personalAccess, secretSHA256: secretSHA256, issuedAt: issuedAt, expiresAt: token.expiresAt,
            abilities: token.abilities)
    }
}
