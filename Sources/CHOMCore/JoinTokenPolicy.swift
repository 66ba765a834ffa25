package import Foundation

/// The rules a join token must pass at enrollment. Pure; the store applies it under a row lock.
package enum JoinTokenPolicy {
    package enum Verdict: String, Sendable, Equatable {
        case valid
        case unknown
        case wrongSecret = "wrong_secret"
        case expired
        case revoked
        case exhausted
    }

    package struct State: Sendable {
        package var secretSHA256: [UInt8]
        package var maxUses: Int
        package var uses: Int
        package var expiresAt: Date
        package var revokedAt: Date?

        package init(secretSHA256: [UInt8], maxUses: Int, uses: Int, expiresAt: Date, revokedAt: Date?) {
            self.secretSHA256 = secretSHA256
            self.maxUses = maxUses
            self.uses = uses
            self.expiresAt = expiresAt
            self.revokedAt = revokedAt
        }
    }

    package static func check(_ state: State?, presentedSHA256: [UInt8], now: Date) -> Verdict {
        guard let state else { return .unknown }
        guard constantTimeEqual(state.secretSHA256, presentedSHA256) else { return .wrongSecret }
        if state.revokedAt != nil { return .revoked }
        if now >= state.expiresAt { return .expired }
        if state.uses >= state.maxUses { return .exhausted }
        return .valid
    }

    /// Compares two digests without an early exit.
    package static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }
}
