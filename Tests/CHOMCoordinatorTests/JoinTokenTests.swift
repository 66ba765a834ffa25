import CHOMCoordinator
import CHOMCore
import Foundation
import Testing

@Suite("Join tokens")
struct JoinTokenTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    @Test("a generated token parses back to the same id and secret, and carries the scanner prefix")
    func roundTrip() throws {
        let secret = JoinTokenSecret.generate()
        #expect(secret.token.hasPrefix("chomjoin_"))
        let parsed = try #require(JoinTokenSecret(parsing: secret.token))
        #expect(parsed == secret)
        #expect(parsed.secretSHA256.count == 32)
        #expect(JoinTokenSecret.generate().secret != secret.secret)
    }

    @Test("malformed tokens do not parse", arguments: [
        "", "chomjoin_", "chomjoin_abc_def", "token_0123456789abcdef0123456789abcdef_" + String(repeating: "a", count: 64),
        "chomjoin_0123456789abcdef0123456789abcdeg_" + String(repeating: "a", count: 64),
        "chomjoin_0123456789abcdef0123456789abcdef_" + String(repeating: "a", count: 63),
        "chomjoin_0123456789abcdef0123456789abcdef_" + String(repeating: "z", count: 64),
    ])
    func malformed(token: String) {
        #expect(JoinTokenSecret(parsing: token) == nil)
    }

    @Test("the policy checks secret, revocation, expiry and uses, in that order")
    func policy() {
        let hash = [UInt8](repeating: 1, count: 32)
        func state(uses: Int = 0, maxUses: Int = 1, expires: TimeInterval = 60, revoked: Bool = false) -> JoinTokenPolicy.State {
            JoinTokenPolicy.State(
                secretSHA256: hash, maxUses: maxUses, uses: uses, expiresAt: now.addingTimeInterval(expires),
                revokedAt: revoked ? now : nil)
        }
        #expect(JoinTokenPolicy.check(nil, presentedSHA256: hash, now: now) == .unknown)
        #expect(JoinTokenPolicy.check(state(), presentedSHA256: hash, now: now) == .valid)
        #expect(JoinTokenPolicy.check(state(), presentedSHA256: [UInt8](repeating: 2, count: 32), now: now) == .wrongSecret)
        #expect(JoinTokenPolicy.check(state(revoked: true, ), presentedSHA256: hash, now: now) == .revoked)
        #expect(JoinTokenPolicy.check(state(expires: 0), presentedSHA256: hash, now: now) == .expired)
        #expect(JoinTokenPolicy.check(state(expires: -1), presentedSHA256: hash, now: now) == .expired)
        #expect(JoinTokenPolicy.check(state(uses: 1), presentedSHA256: hash, now: now) == .exhausted)
        #expect(JoinTokenPolicy.check(state(uses: 1, maxUses: 3), presentedSHA256: hash, now: now) == .valid)
        // A wrong secret is reported as such even for an expired token: nothing leaks without the secret.
        #expect(JoinTokenPolicy.check(state(expires: -1), presentedSHA256: [0], now: now) == .wrongSecret)
    }
}
