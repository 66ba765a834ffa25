import CHOMCoordinator
import CHOMCore
import Foundation
import Testing

@Suite("Personal access tokens")
struct PersonalAccessTokenTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    func utc(_ year: Int, _ month: Int, _ day: Int) -> Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar.date(from: DateComponents(year: year, month: month, day: day))!
    }

    func refusal(
        name: String = "deploy bot", abilities: Set<Ability> = [.sitesDeploy], expiresAt: Date?, now: Date
    ) -> CHOMError? {
        #expect(throws: CHOMError.self) {
            try PersonalAccessToken.validated(name: name, abilities: abilities, expiresAt: expiresAt, now: now)
        }
    }

    @Test("a request with a name, abilities and an expiry within a year is accepted")
    func accepted() throws {
        let token = try PersonalAccessToken.validated(
            name: "  deploy bot ", abilities: [.sitesDeploy, .sitesRead], expiresAt: now.addingTimeInterval(86_400),
            now: now)
        #expect(token.name == "deploy bot")
        #expect(token.abilities == [.sitesDeploy, .sitesRead])
        #expect(token.expiresAt == now.addingTimeInterval(86_400))
        #expect(token.allows(.sitesRead))
        #expect(!token.allows(.sitesWrite))
    }

    @Test("the expiry is required", arguments: [nil as Date?])
    func expiryRequired(expiresAt: Date?) {
        #expect(refusal(expiresAt: expiresAt, now: now)?.code == .invalidInput)
    }

    @Test("the expiry must be in the future", arguments: [0.0, -1, -86_400])
    func expiryInFuture(offset: TimeInterval) {
        #expect(refusal(expiresAt: now.addingTimeInterval(offset), now: now)?.code == .invalidInput)
    }

    @Test("exactly one calendar year is the limit, leap day included", arguments: [
        ((2027, 3, 1), (2028, 3, 1)), ((2028, 2, 29), (2029, 2, 28)), ((2026, 6, 15), (2027, 6, 15)),
    ])
    func oneYear(from: (Int, Int, Int), to: (Int, Int, Int)) throws {
        let start = utc(from.0, from.1, from.2)
        let latest = utc(to.0, to.1, to.2)
        #expect(TokenLifetime().latestPersonalAccessTokenExpiry(now: start) == latest)
        _ = try PersonalAccessToken.validated(name: "a", abilities: [.auditRead], expiresAt: latest, now: start)
        #expect(refusal(expiresAt: latest.addingTimeInterval(1), now: start)?.code == .invalidInput)
    }

    @Test("the one-second-after-a-year expiry is refused whatever the day", arguments: [0.0, 1, 86_399, 31_536_000])
    func justOverAYear(shift: TimeInterval) {
        let start = now.addingTimeInterval(shift)
        let latest = TokenLifetime().latestPersonalAccessTokenExpiry(now: start)
        #expect(latest.timeIntervalSince(start) >= 365 * 86_400)
        #expect(latest.timeIntervalSince(start) <= 366 * 86_400)
        #expect(refusal(expiresAt: latest.addingTimeInterval(1), now: start) != nil)
        #expect(refusal(expiresAt: latest.addingTimeInterval(86_400 * 365), now: start) != nil)
    }

    @Test("at least one ability is required")
    func abilitiesRequired() {
        #expect(refusal(abilities: [], expiresAt: now.addingTimeInterval(60), now: now)?.code == .invalidInput)
    }

    @Test("a name must be 1 to 100 printable characters", arguments: [
        "", "   ", "\n", String(repeating: "x", count: 101), "bad\u{0}name", "tab\tname",
    ])
    func badName(name: String) {
        #expect(refusal(name: name, expiresAt: now.addingTimeInterval(60), now: now)?.code == .invalidInput)
    }

    @Test("a 100-character name is accepted")
    func longestName() throws {
        let name = String(repeating: "x", count: 100)
        let token = try PersonalAccessToken.validated(
            name: name, abilities: [.auditRead], expiresAt: now.addingTimeInterval(60), now: now)
        #expect(token.name == name)
    }

    @Test("its record carries the abilities and expiry, and the policy honours them")
    func record() throws {
        let request = try PersonalAccessToken.validated(
            name: "ci", abilities: [.sitesWrite], expiresAt: now.addingTimeInterval(600), now: now)
        let token = APIToken.generate()
        let record = TokenRecord.personalAccess(request, secretSHA256: token.secretSHA256, issuedAt: now)
        #expect(record.kind == .personalAccess)
        #expect(record.abilities == [.sitesWrite])
        let policy = TokenPolicy()
        #expect(policy.check(record, presentedSecretHash: token.secretSHA256, now: now.addingTimeInterval(599)) == .valid)
        #expect(policy.check(record, presentedSecretHash: token.secretSHA256, now: now.addingTimeInterval(600)) == .expired)
        #expect(TokenPolicy.allows(record, .sitesRead))
        #expect(!TokenPolicy.allows(record, .sitesDeploy))
    }
}
