import CHOMAPI
import Foundation
import Testing

@Suite("Durations and timestamps on the command line")
struct TimeTextTests {
    @Test(
        "durations with a unit", arguments: [
            ("90m", 5400.0), ("12h", 43_200), ("30d", 2_592_000), ("45s", 45), ("2w", 1_209_600), ("1d12h", 129_600),
            ("1h30m", 5400), (" 12H ", 43_200),
        ] as [(String, TimeInterval)])
    func durations(text: String, seconds: TimeInterval) {
        #expect(DurationText.seconds(text) == seconds)
    }

    @Test(
        "not durations: no unit, unknown unit, zero, negative, empty, fractions, overflow",
        arguments: ["30", "10y", "0d", "0h0m", "-5m", "", "h", "1.5h", "d30", "12 h", "9999999999d", "30days"])
    func notDurations(text: String) {
        #expect(DurationText.seconds(text) == nil)
    }

    @Test("ISO-8601 times, with Z, an offset or fractions, and dates at midnight UTC")
    func timestamps() {
        #expect(TimestampText.date("2026-11-26T19:30:00Z") == Date(timeIntervalSince1970: 1_795_721_400))
        #expect(TimestampText.date("2026-11-26T21:30:00+02:00") == Date(timeIntervalSince1970: 1_795_721_400))
        #expect(TimestampText.date("2026-11-26T19:30:00.500Z") == Date(timeIntervalSince1970: 1_795_721_400.5))
        #expect(TimestampText.date("2026-11-26") == Date(timeIntervalSince1970: 1_795_651_200))
    }

    @Test("not timestamps", arguments: ["yesterday", "2026-13-01", "2026-11-26T19:30", "26/11/2026", ""])
    func notTimestamps(text: String) {
        #expect(TimestampText.date(text) == nil)
    }

    @Test("a duration as a point in time means that long before now")
    func ago() {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        #expect(TimestampText.dateOrAgo("24h", now: now) == now.addingTimeInterval(-86_400))
        #expect(TimestampText.dateOrAgo("2026-11-26T19:30:00Z", now: now) == Date(timeIntervalSince1970: 1_795_721_400))
        #expect(TimestampText.dateOrAgo("soon", now: now) == nil)
    }
}
