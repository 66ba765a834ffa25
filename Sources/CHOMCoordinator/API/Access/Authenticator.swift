import CHOMCore
import CHOMStore
import Foundation
import Hummingbird

/// Turns a bearer token into a `Principal`: parse (prefix, id, secret, checksum), look up by
/// id, compare the SHA-256 of the secret in constant time, then expiry, revocation, rotation.
struct Authenticator: Sendable {
    let store: Store
    let tokenPolicy: TokenPolicy

    func authenticate(_ request: Request, now: Date) async throws -> Principal {
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer ") else {
            throw CHOMError(.unauthorized, "missing bearer token")
        }
        guard let presented = APIToken(parsing: String(header.dropFirst("Bearer ".count))) else {
            throw CHOMError(.unauthorized, "invalid bearer token")
        }
        let stored = try await store.tokens.get(presented.id)
        let verdict = tokenPolicy.check(stored.map(Self.record), presentedSecretHash: presented.secretSHA256, now: now)
        switch verdict {
        case .valid: break
        case .unknown, .wrongSecret: throw CHOMError(.unauthorized, "invalid bearer token")
        case .expired: throw CHOMError(.unauthorized, "the token has expired")
        case .revoked: throw CHOMError(.unauthorized, "the token was revoked")
        case .rotatedAndGraceOver: throw CHOMError(.unauthorized, "the token was rotated and its grace period is over")
        }
        guard let stored, let user = try await store.users.get(stored.userID) else {
            throw CHOMError(.unauthorized, "invalid bearer token")
        }
        // last_used_at is kept to the minute: skip the write while the stored value is that fresh.
        if stored.lastUsedAt.map({ now.timeIntervalSince($0) >= 60 }) ?? true {
            try await store.tokens.touch(stored.id, now: now)
        }
        let access = try await store.memberships.access(of: user.id)
        return Principal(user: user, token: stored, memberships: access.memberships, grants: access.grants)
    }

    static func record(_ token: StoredToken) -> TokenRecord {
        TokenRecord(
            kind: token.kind == "session" ? .session : .personalAccess, secretSHA256: token.secretSHA256,
            issuedAt: token.createdAt, expiresAt: token.expiresAt, revokedAt: token.revokedAt,
            rotatedAt: token.rotatedAt, abilities: token.abilities.flatMap { Ability.parse($0) })
    }
}
