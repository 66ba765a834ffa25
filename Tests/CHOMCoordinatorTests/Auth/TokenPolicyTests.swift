import CHOMCoordinator
import CHOMCore
import Foundation
import Testing

@Suite("Token lifetime, policy and rotation")
struct TokenPolicyTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)
    let hash = [UInt8](repeating: 1, count: 32)
    let otherHash = [UInt8](repeating: 2, count: 32)
    let policy = TokenPolicy()

    func session(issuedAt: Date? = nil, revoked: Bool = false, rotatedAt: Date? = nil) -> TokenRecord {
        var record = TokenRecord.session(secretSHA256: hash, issuedAt: issuedAt ?? now, lifetime: TokenLifetime())
        record.revokedAt = revoked ? now : nil
        record.rotatedAt = rotatedAt
        return record
    }

    @Test("session tokens last 60 minutes by default, and the configuration changes it")
    func sessionLifetime() {
        #expect(TokenLifetime().sessionExpiry(issuedAt: now) == now.addingTimeInterval(3600))
        #expect(TokenLifetime(session: 300, rotationGrace: 5).sessionExpiry(issuedAt: now) == now.addingTimeInterval(300))
        #expect(session().expiresAt == now.addingTimeInterval(3600))
        #expect(TokenLifetime().rotationGrace == 60)
    }

    @Test("a session token is valid until its expiry and expired from that instant on", arguments: [
        (0.0, TokenPolicy.Verdict.valid), (1, .valid), (3599, .valid), (3599.999, .valid), (3600, .expired),
        (3601, .expired), (86_400, .expired),
    ])
    func expiryBoundary(elapsed: TimeInterval, verdict: TokenPolicy.Verdict) {
        #expect(policy.check(session(), presentedSecretHash: hash, now: now.addingTimeInterval(elapsed)) == verdict)
    }

    @Test("the secret is checked first, so nothing about a token leaks without it")
    func secretFirst() {
        #expect(policy.check(nil, presentedSecretHash: hash, now: now) == .unknown)
        #expect(policy.check(session(), presentedSecretHash: otherHash, now: now) == .wrongSecret)
        #expect(policy.check(session(), presentedSecretHash: [], now: now) == .wrongSecret)
        #expect(policy.check(session(), presentedSecretHash: hash + [0], now: now) == .wrongSecret)
        #expect(policy.check(session(revoked: true), presentedSecretHash: otherHash, now: now) == .wrongSecret)
        let longAgo = now.addingTimeInterval(-100_000)
        #expect(policy.check(session(issuedAt: longAgo), presentedSecretHash: otherHash, now: now) == .wrongSecret)
        #expect(policy.check(session(rotatedAt: longAgo), presentedSecretHash: otherHash, now: now) == .wrongSecret)
    }

    @Test("a revoked token is refused at once, before expiry or grace")
    func revoked() {
        #expect(policy.check(session(revoked: true), presentedSecretHash: hash, now: now) == .revoked)
        let expired = now.addingTimeInterval(7200)
        #expect(policy.check(session(revoked: true), presentedSecretHash: hash, now: expired) == .revoked)
        #expect(policy.check(session(revoked: true, rotatedAt: now), presentedSecretHash: hash, now: now) == .revoked)
    }

    @Test("a rotated token keeps working inside the grace and stops at its end", arguments: [
        (0.0, TokenPolicy.Verdict.valid), (30, .valid), (59.999, .valid), (60, .rotatedAndGraceOver),
        (61, .rotatedAndGraceOver), (3000, .rotatedAndGraceOver),
    ])
    func rotationGrace(sinceRotation: TimeInterval, verdict: TokenPolicy.Verdict) {
        let rotatedAt = now.addingTimeInterval(100)
        let record = session(rotatedAt: rotatedAt)
        let at = rotatedAt.addingTimeInterval(sinceRotation)
        #expect(policy.check(record, presentedSecretHash: hash, now: at) == verdict)
    }

    @Test("the grace period is configurable", arguments: [0.0, 5, 600])
    func configurableGrace(grace: TimeInterval) {
        let policy = TokenPolicy(lifetime: TokenLifetime(session: 3600, rotationGrace: grace))
        let record = session(rotatedAt: now)
        if grace > 0 {
            #expect(policy.check(record, presentedSecretHash: hash, now: now.addingTimeInterval(grace - 0.001)) == .valid)
        }
        #expect(policy.check(record, presentedSecretHash: hash, now: now.addingTimeInterval(grace)) == .rotatedAndGraceOver)
    }

    @Test("the grace never extends a token past its own expiry")
    func graceDoesNotExtend() {
        let record = session(rotatedAt: now.addingTimeInterval(3590))
        #expect(policy.check(record, presentedSecretHash: hash, now: now.addingTimeInterval(3599)) == .valid)
        #expect(policy.check(record, presentedSecretHash: hash, now: now.addingTimeInterval(3600)) == .expired)
        let lifetime = TokenLifetime()
        #expect(lifetime.effectiveExpiry(expiresAt: record.expiresAt, rotatedAt: record.rotatedAt) == record.expiresAt)
        #expect(lifetime.effectiveExpiry(expiresAt: record.expiresAt, rotatedAt: now) == now.addingTimeInterval(60))
        #expect(lifetime.effectiveExpiry(expiresAt: record.expiresAt, rotatedAt: nil) == record.expiresAt)
    }

    @Test("rotation marks the old token and issues a successor of the same kind; a session's lives a full session")
    func rotate() {
        let at = now.addingTimeInterval(1800)
        let (old, new) = policy.rotate(session(), newSecretSHA256: otherHash, now: at)
        #expect(old.rotatedAt == at)
        #expect(old.secretSHA256 == hash)
        #expect(new.kind == .session)
        #expect(new.secretSHA256 == otherHash)
        #expect(new.issuedAt == at)
        #expect(new.expiresAt == at.addingTimeInterval(3600))
        #expect(new.rotatedAt == nil)
        #expect(policy.check(new, presentedSecretHash: otherHash, now: at) == .valid)
        #expect(policy.check(old, presentedSecretHash: hash, now: at.addingTimeInterval(59)) == .valid)
        #expect(policy.check(old, presentedSecretHash: hash, now: at.addingTimeInterval(60)) == .rotatedAndGraceOver)
    }

    @Test("a personal access token's successor keeps its expiry and abilities")
    func rotatePersonalAccess() throws {
        let request = try PersonalAccessToken.validated(
            name: "ci", abilities: [.sitesDeploy], expiresAt: now.addingTimeInterval(86_400), now: now)
        let record = TokenRecord.personalAccess(request, secretSHA256: hash, issuedAt: now)
        let (_, new) = policy.rotate(record, newSecretSHA256: otherHash, now: now.addingTimeInterval(10))
        #expect(new.kind == .personalAccess)
        #expect(new.expiresAt == now.addingTimeInterval(86_400))
        #expect(new.abilities == [.sitesDeploy])
    }

    @Test("only a valid token not yet rotated may be rotated")
    func mayRotate() {
        #expect(policy.mayRotate(session(), presentedSecretHash: hash, now: now))
        #expect(!policy.mayRotate(session(), presentedSecretHash: otherHash, now: now))
        #expect(!policy.mayRotate(session(rotatedAt: now), presentedSecretHash: hash, now: now.addingTimeInterval(1)))
        #expect(!policy.mayRotate(session(revoked: true), presentedSecretHash: hash, now: now))
        #expect(!policy.mayRotate(session(), presentedSecretHash: hash, now: now.addingTimeInterval(3600)))
    }

    static let granting: [(Ability, Set<Ability>)] = [
        (.sitesRead, [.sitesRead]), (.sitesRead, [.sitesWrite]), (.sitesRead, [.sitesDeploy]),
        (.sitesDeploy, [.sitesDeploy]), (.agentsRead, [.agentsWrite]), (.agentsRead, [.joinTokensWrite]),
        (.tokensRead, [.tokensWrite]), (.membersRead, [.membersWrite]), (.tenantsRead, [.tenantsWrite]),
        (.organizationsRead, [.organizationsWrite]),
    ]

    static let notGranting: [(Ability, Set<Ability>)] = [
        (.sitesWrite, [.sitesRead]), (.sitesDeploy, [.sitesWrite]), (.sitesWrite, [.sitesDeploy]),
        (.agentsWrite, [.agentsRead]), (.agentsRead, [.sitesWrite]), (.auditRead, []),
        (.auditRead, Set(Ability.allCases).subtracting([.auditRead])), (.tokensWrite, [.tokensRead, .sitesWrite]),
        (.tenantsRead, [.organizationsWrite]), (.joinTokensWrite, [.agentsWrite]),
    ]

    @Test("an ability is granted by itself or by the write (or deploy) of the same resource", arguments: TokenPolicyTests.granting)
    func abilityGranted(needed: Ability, granted: Set<Ability>) {
        #expect(TokenPolicy.ability(needed, in: granted))
    }

    @Test("nothing else is implied: read never grants write, and resources never mix", arguments: TokenPolicyTests.notGranting)
    func abilityRefused(needed: Ability, granted: Set<Ability>) {
        #expect(!TokenPolicy.ability(needed, in: granted))
    }

    @Test("every ability is granted by itself and by the full set")
    func everyAbility() {
        for ability in Ability.allCases {
            #expect(TokenPolicy.ability(ability, in: [ability]))
            #expect(TokenPolicy.ability(ability, in: Set(Ability.allCases)))
            #expect(!ability.implied.contains(ability))
        }
    }

    @Test("a session token is bounded by the role alone, a personal access token also by its abilities")
    func recordAllows() {
        #expect(TokenPolicy.allows(session(), .tokensWrite))
        var pat = session()
        pat.kind = .personalAccess
        pat.abilities = [.sitesRead]
        #expect(TokenPolicy.allows(pat, .sitesRead))
        #expect(!TokenPolicy.allows(pat, .sitesWrite))
        pat.abilities = nil  // a personal access token without abilities allows nothing
        #expect(!TokenPolicy.allows(pat, .sitesRead))
    }

    @Test("ability names are resource:verb, parse back, and an unknown name refuses the whole set")
    func abilityNames() throws {
        for ability in Ability.allCases {
            let parts = ability.rawValue.split(separator: ":")
            #expect(parts.count == 2)
            #expect(["read", "write", "deploy"].contains(parts.last.map(String.init) ?? ""))
        }
        #expect(Ability.parse(["sites:read", "audit:read"]) == [.sitesRead, .auditRead])
        #expect(Ability.parse([]) == [])
        #expect(Ability.parse(["sites:read", "sites:admin"]) == nil)
        #expect(Ability.parse(["SITES:READ"]) == nil)
        let decoded = try JSONDecoder().decode([Ability].self, from: Data(#"["sites:deploy","tokens:write"]"#.utf8))
        #expect(decoded == [.sitesDeploy, .tokensWrite])
    }
}
