package import Foundation

// Signing in, bearer tokens, two-factor authentication and passwords (`/v1/auth`, `/v1/me/…`,
// `/v1/tokens`). Types that carry a password, a token or a TOTP secret redact it from their
// mirror (`SecretRedaction.swift`), so printing or dumping one never shows it.

package struct LoginRequest: Codable, Sendable, Equatable {
    package var email: String
    package var password: String
    package static let fields: Set<String> = ["email", "password"]
    package init(email: String, password: String) {
        self.email = email
        self.password = password
    }
}

/// The answer to `POST /v1/auth/login` and `POST /v1/auth/login/two-factor`: either a session token
/// (`token` and `tokenInfo`), or, when the user has two-factor on, a challenge to answer with a code.
package struct LoginResponse: Codable, Sendable, Equatable {
    package enum Status: String, Codable, Sendable, Equatable {
        case authenticated
        case twoFactorRequired = "two_factor_required"
    }

    package var status: Status
    /// The session token's secret (`chom_…`); present when `status` is `.authenticated`.
    package var token: String?
    package var tokenInfo: TokenResponse?
    /// Present when `status` is `.twoFactorRequired`: send it back with the code.
    package var challenge: String?
    package var challengeExpiresAt: Date?

    package init(
        status: Status, token: String? = nil, tokenInfo: TokenResponse? = nil, challenge: String? = nil,
        challengeExpiresAt: Date? = nil
    ) {
        self.status = status
        self.token = token
        self.tokenInfo = tokenInfo
        self.challenge = challenge
        self.challengeExpiresAt = challengeExpiresAt
    }

    /// An authenticated answer carrying a session token.
    package static func authenticated(_ issued: IssuedTokenResponse) -> LoginResponse {
        LoginResponse(status: .authenticated, token: issued.token, tokenInfo: issued.tokenInfo)
    }

    /// An answer asking for a second factor.
    package static func twoFactorRequired(challenge: String, expiresAt: Date) -> LoginResponse {
        LoginResponse(status: .twoFactorRequired, challenge: challenge, challengeExpiresAt: expiresAt)
    }
}

package struct TwoFactorLoginRequest: Codable, Sendable, Equatable {
    package var challenge: String
    /// A 6-digit TOTP code or one of the recovery codes.
    package var code: String
    package static let fields: Set<String> = ["challenge", "code"]
    package init(challenge: String, code: String) {
        self.challenge = challenge
        self.code = code
    }
}

/// A bearer token as listed: never its secret.
package struct TokenResponse: Codable, Sendable, Equatable {
    package var id: String
    /// "session" or "personal_access".
    package var kind: String
    package var name: String
    /// The abilities the token is limited to; nil (absent) means all of the user's permissions.
    package var abilities: [String]?
    package var createdAt: Date
    package var expiresAt: Date
    package var lastUsedAt: Date?
    package var revokedAt: Date?
    package var rotatedAt: Date?
    package init(
        id: String, kind: String, name: String, abilities: [String]?, createdAt: Date, expiresAt: Date,
        lastUsedAt: Date?, revokedAt: Date?, rotatedAt: Date?
    ) {
        self.id = id
        self.kind = kind
        self.name = name
        self.abilities = abilities
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.lastUsedAt = lastUsedAt
        self.revokedAt = revokedAt
        self.rotatedAt = rotatedAt
    }
}

/// A newly issued token: the only time its secret is shown.
package struct IssuedTokenResponse: Codable, Sendable, Equatable {
    package var token: String
    package var tokenInfo: TokenResponse
    package init(token: String, tokenInfo: TokenResponse) {
        self.token = token
        self.tokenInfo = tokenInfo
    }
}

/// A personal access token (`POST /v1/tokens`).
package struct CreateTokenRequest: Codable, Sendable, Equatable {
    package var name: String
    /// Drawn from `CreateTokenRequest.knownAbilities`.
    package var abilities: [String]
    package var expiresAt: Date
    package static let fields: Set<String> = ["name", "abilities", "expiresAt"]
    /// Every ability a token may be limited to.
    package static let knownAbilities: Set<String> = [
        "sites:read", "sites:write", "sites:deploy", "tasks:read", "agents:read", "agents:write",
        "join_tokens:write", "organizations:read", "organizations:write", "tenants:read", "tenants:write",
        "members:read", "members:write", "audit:read", "tokens:read", "tokens:write",
        "billing:read", "billing:write",
    ]
    package init(name: String, abilities: [String], expiresAt: Date) {
        self.name = name
        self.abilities = abilities
        self.expiresAt = expiresAt
    }
}

/// The start of two-factor enrollment: the TOTP secret to load into an authenticator app.
package struct TwoFactorEnrollResponse: Codable, Sendable, Equatable {
    /// Base32.
    package var secret: String
    package var otpauthUri: String
    package init(secret: String, otpauthUri: String) {
        self.secret = secret
        self.otpauthUri = otpauthUri
    }
}

package struct TwoFactorConfirmRequest: Codable, Sendable, Equatable {
    package var code: String
    package static let fields: Set<String> = ["code"]
    package init(code: String) { self.code = code }
}

/// The ten recovery codes, shown once when two-factor is confirmed.
package struct RecoveryCodesResponse: Codable, Sendable, Equatable {
    package var recoveryCodes: [String]
    package init(recoveryCodes: [String]) { self.recoveryCodes = recoveryCodes }
}

package struct TwoFactorDisableRequest: Codable, Sendable, Equatable {
    package var password: String
    package var code: String
    package static let fields: Set<String> = ["password", "code"]
    package init(password: String, code: String) {
        self.password = password
        self.code = code
    }
}

package struct ChangePasswordRequest: Codable, Sendable, Equatable {
    package var currentPassword: String
    /// `passwordLength` characters.
    package var newPassword: String
    package static let fields: Set<String> = ["currentPassword", "newPassword"]
    /// How many characters a new password may have.
    package static let passwordLength: ClosedRange<Int> = 12...200
    package init(currentPassword: String, newPassword: String) {
        self.currentPassword = currentPassword
        self.newPassword = newPassword
    }
}
