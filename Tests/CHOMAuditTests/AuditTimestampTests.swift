import CHOMAudit
import CHOMCore
import Foundation
import Testing

@Suite("Audit timestamps")
struct AuditTimestampTests {
    @Test(
        "times are written as RFC 3339 UTC with three fractional digits",
        arguments: [
            (Int64(0), "1970-01-01T00:00:00.000Z"),
            (1_800_000_000_123, "2027-01-15T08:00:00.123Z"),
            (1_709_210_096_789, "2024-02-29T12:34:56.789Z"),
            (-1, "1969-12-31T23:59:59.999Z"),
            (951_782_400_000, "2000-02-29T00:00:00.000Z"),
            (253_402_300_799_999, "9999-12-31T23:59:59.999Z"),
            (-62_135_596_800_000, "0001-01-01T00:00:00.000Z"),
        ])
    func known(milliseconds: Int64, text: String) throws {
        let date = Date(unixMilliseconds: milliseconds)
        #expect(AuditTimestamp.string(date) == text)
        let parsed = try #require(AuditTimestamp.date(text))
        #expect(parsed.unixMilliseconds == milliseconds)
    }

    @Test("the hand-written form agrees with Foundation's ISO 8601 formatter", arguments: 0..<200)
    func agreesWithFoundation(step: Int) {
        // Spread over 1970…2100, with odd milliseconds.
        let milliseconds = Int64(step) * 20_714_285_714_3 / 10 + Int64(step * 37 % 1000)
        let date = Date(unixMilliseconds: milliseconds)
        // Foundation truncates to the millisecond where we round: give it a little margin.
        let foundation = date.addingTimeInterval(0.0002).formatted(
            Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: TimeZone(identifier: "UTC")!))
        #expect(AuditTimestamp.string(date) == foundation)
    }

    @Test(
        "anything but the exact form is refused",
        arguments: [
            "", "2027-01-15T08:00:00Z", "2027-01-15T08:00:00.12Z", "2027-01-15T08:00:00.123+00:00",
            "2027-01-15 08:00:00.123Z", "2027-02-29T08:00:00.123Z", "2027-13-01T08:00:00.123Z", "2027-00-01T08:00:00.123Z",
            "2027-01-00T08:00:00.123Z", "2027-01-15T24:00:00.123Z", "2027-01-15T08:60:00.123Z",
            "2027-01-15T08:00:60.123Z", "2027-01-15T08:00:00.123z", "+027-01-15T08:00:00.123Z", "２027-01-15T08:00:00.123Z",
        ])
    func refused(text: String) {
        #expect(AuditTimestamp.date(text) == nil)
    }

    @Test("sub-millisecond time is rounded to the nearest millisecond")
    func rounding() {
        #expect(AuditTimestamp.string(Date(timeIntervalSince1970: 0.0004)) == "1970-01-01T00:00:00.000Z")
        #expect(AuditTimestamp.string(Date(timeIntervalSince1970: 0.0006)) == "1970-01-01T00:00:00.001Z")
        #expect(AuditTimestamp.string(Date(timeIntervalSince1970: 59.9996)) == "1970-01-01T00:01:00.000Z")
    }
}
