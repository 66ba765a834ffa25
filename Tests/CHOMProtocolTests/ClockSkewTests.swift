import CHOMCore
import CHOMProtocol
import Foundation
import Testing

/// Issued at T, expires at T + 600 s, skew allowance 60 s (the default): valid from T − 60 s to
/// T + 660 s inclusive, at millisecond resolution.
@Suite("Clock skew")
struct ClockSkewTests {
    @Test(
        "an envelope issued ahead of the agent's clock is accepted within the skew and refused beyond it",
        arguments: [(30_000, "accept"), (60_000, "accept"), (60_001, "not_yet_valid"), (120_000, "not_yet_valid")]
            as [(Int64, String)])
    func issuedInTheFuture(aheadMs: Int64, expected: String) throws {
        let envelope = try Fixtures.seal(Fixtures.deployTask(60), sequence: 1)
        let now = Date(unixMilliseconds: Fixtures.issuedAtMs - aheadMs)
        #expect(Fixtures.outcome(envelope, now: now) == expected)
    }

    @Test(
        "an envelope past its expiry is accepted within the skew and refused beyond it",
        arguments: [
            (-1, "accept"), (0, "accept"), (30_000, "accept"), (60_000, "accept"), (60_001, "expired"),
            (120_000, "expired"),
        ] as [(Int64, String)])
    func expiredInThePast(pastExpiryMs: Int64, expected: String) throws {
        let envelope = try Fixtures.seal(Fixtures.deployTask(61), sequence: 1)
        let now = Date(unixMilliseconds: Fixtures.expiresAtMs + pastExpiryMs)
        #expect(Fixtures.outcome(envelope, now: now) == expected)
    }

    @Test(
        "a larger skew allowance widens both edges",
        arguments: [(-150_000, "accept"), (-190_000, "not_yet_valid")]
            as [(Int64, String)])
    func widerSkew(offsetMs: Int64, expected: String) throws {
        var limits = EnvelopeLimits()
        limits.clockSkewSeconds = 180
        let opener = EnvelopeOpener(trustedKeys: Fixtures.opener.trustedKeys, expectedAgent: Fixtures.agent, limits: limits)
        let envelope = try Fixtures.seal(Fixtures.deployTask(62), sequence: 1)
        var replay = ReplayWindow()
        let beforeIssue = Fixtures.open(
            envelope, now: Date(unixMilliseconds: Fixtures.issuedAtMs + offsetMs), replay: &replay, opener: opener)
        #expect(beforeIssue.reason == expected)
        var later = ReplayWindow()
        let afterExpiry = Fixtures.open(
            envelope, now: Date(unixMilliseconds: Fixtures.expiresAtMs - offsetMs), replay: &later, opener: opener)
        #expect(afterExpiry.reason == (expected == "accept" ? "accept" : "expired"))
    }

    @Test("the time check reads only the header's times, not the TTL the sealer was given")
    func headerTimesRule() throws {
        let sealed = try Fixtures.seal(Fixtures.deployTask(63), sequence: 1)
        let longLived = try Fixtures.resign(sealed) { header, _ in header.expiresAtMs += 3_600_000 }
        let oneHourLater = Date(unixMilliseconds: Fixtures.expiresAtMs + 1_800_000)
        #expect(Fixtures.outcome(sealed, now: oneHourLater) == "expired")
        #expect(Fixtures.outcome(longLived, now: oneHourLater) == "accept")
    }
}
