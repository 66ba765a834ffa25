package import Foundation

/// Durations as `chom` takes them: a number and a unit, `s`, `m`, `h`, `d` or `w` ("90m", "12h",
/// "30d"), or several in a row ("1d12h"). Positive only.
package enum DurationText {
    private static let units: [Character: TimeInterval] = ["s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800]

    /// The duration in seconds, or nil when `text` is not one.
    package static func seconds(_ text: String) -> TimeInterval? {
        let text = text.trimmingCharacters(in: .whitespaces).lowercased()
        guard !text.isEmpty else { return nil }
        var total: TimeInterval = 0
        var digits = ""
        for character in text {
            if character.isASCII, character.isNumber {
                digits.append(character)
                guard digits.count <= 9 else { return nil }
            } else if let unit = units[character] {
                guard let value = Int(digits) else { return nil }
                total += TimeInterval(value) * unit
                digits = ""
            } else {
                return nil
            }
        }
        guard digits.isEmpty, total > 0 else { return nil }
        return total
    }
}

/// Points in time as `chom` takes them: ISO-8601 ("2026-11-26T19:30:00Z", an offset such as
/// "+02:00", fractional seconds), or a date alone ("2026-11-26", midnight UTC).
package enum TimestampText {
    package static func date(_ text: String) -> Date? {
        let text = text.trimmingCharacters(in: .whitespaces)
        let full = ISO8601DateFormatter()
        full.formatOptions = [.withInternetDateTime]
        if let date = full.date(from: text) { return date }
        full.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = full.date(from: text) { return date }
        guard text.count == 10 else { return nil }
        let day = ISO8601DateFormatter()
        day.formatOptions = [.withFullDate]
        day.timeZone = TimeZone(identifier: "UTC")
        return day.date(from: text)
    }

    /// A timestamp, or a duration (`DurationText`) meaning that long before `now` ("24h" = a day ago).
    package static func dateOrAgo(_ text: String, now: Date) -> Date? {
        if let seconds = DurationText.seconds(text) { return now.addingTimeInterval(-seconds) }
        return date(text)
    }
}
