import CHOMCore
package import Foundation

/// The rules a presented API token must pass. Pure: the store looks the record up by token id,
/// the caller passes the time.
package struct TokenPolicy: Sendable {
    package enum Verdict: String, Sendable, Equatable {
        case valid
        /// No record for the token id. Answer it exactly like `wrongSecret`.
        case unknown
        case wrongSecret = "wrong_secret"
        case expired
        case revoked
        /// Rotated, and the grace period after `rotatedAt` is over.
        case rotatedAndGraceOver = "rotated_and_grace_over"
    }

    package var lifetime: TokenLifetime

    package init(lifetime: TokenLifetime = TokenLifetime()) {
        self.lifetime = lifetime
    }

    /// Checks the secret first, so that nothing about a token is revealed without it; then revocation,
    /// expiry, and the rotation grace. A token expires at `expiresAt` itself, and a rotated one at
    /// `rotatedAt + rotationGrace` itself: the grace never extends a token's life.
    package func check(_ record: TokenRecord?, presentedSecretHash: [UInt8], now: Date) -> Verdict {
        guard let record else { return .unknown }
        guard JoinTokenPolicy.constantTimeEqual(record.secretSHA256, presentedSecretHash) else { return .wrongSecret }
        if record.revokedAt != nil { return .revoked }
        if now >= record.expiresAt { return .expired }
        if let rotatedAt = record.rotatedAt, now >= rotatedAt.addingTimeInterval(lifetime.rotationGrace) {
            return .rotatedAndGraceOver
        }
        return .valid
    }

    /// Whether a token may be rotated now: it is valid and has not been rotated already (a token in its
    /// grace period cannot spawn a second successor).
    package func mayRotate(_ record: TokenRecord, presentedSecretHash: [UInt8], now: Date) -> Bool {
        check(record, presentedSecretHash: presentedSecretHash, now: now) == .valid && record.rotatedAt == nil
    }

    /// The old and the new record of a rotation at `now`: the old one marked rotated, the new one issued now
    /// with the same kind and abilities. A session's successor lives a full session; a personal access
    /// token's keeps the original expiry (rotation changes the secret, not the life).
    package func rotate(
        _ record: TokenRecord, newSecretSHA256: [UInt8], now: Date
    ) -> (old: TokenRecord, new: TokenRecord) {
        var old = record
        old.rotatedAt = now
        let expiresAt = record.kind == .session ? lifetime.sessionExpiry(issuedAt: now) : record.expiresAt
        let new = TokenRecord(
            kind: record.kind, secretSHA256: newSecretSHA256, issuedAt: now, expiresAt: expiresAt,
            abilities: record.abilities)
        return (old, new)
    }

    /// Whether `granted` allows `needed`, directly or by implication (`write` implies `read`).
    package static func ability(_ needed: Ability, in granted: Set<Ability>) -> Bool {
        granted.contains(needed) || granted.contains { $0.implied.contains(needed) }
    }

    /// Whether a token of this record may do `needed`: a session token is bounded by the user's role
    /// alone (checked elsewhere), a personal access token also by its abilities.
    package static func allows(_ record: TokenRecord, _ needed: Ability) -> Bool {
        guard let abilities = record.abilities else { return record.kind == .session }
        return ability(needed, in: abilities)
    }
}
