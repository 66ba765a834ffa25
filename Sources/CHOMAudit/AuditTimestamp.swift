import CHOMCore
package import Foundation

/// The one text form of time in the audit log and its checkpoints: RFC 3339 in UTC with
/// exactly three fractional digits, `2027-01-15T08:00:00.123Z` (always 24 characters).
/// Dates are rounded to the millisecond first (as `Date.unixMilliseconds`); years 0000…9999.
/// Written by hand rather than by a formatter so the bytes never depend on locale or platform.
package enum AuditTimestamp {
    private static let millisecondsPerDay: Int64 = 86_400_000

    /// `date` rounded to the millisecond, the precision the audit log keeps.
    package static func normalized(_ date: Date) -> Date {
        Date(unixMilliseconds: date.unixMilliseconds)
    }

    package static func string(_ date: Date) -> String {
        String(decoding: utf8(date), as: UTF8.self)
    }

    /// The 24 UTF-8 bytes of `string(date)`, for canonical encodings.
    package static func utf8(_ date: Date) -> [UInt8] {
        let milliseconds = date.unixMilliseconds
        let days = floorDivide(milliseconds, millisecondsPerDay)
        let ofDay = milliseconds - days * millisecondsPerDay
        let (year, month, day) = civil(fromDays: days)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(24)
        func digits(_ value: Int64, _ count: Int) {
            var divisor: Int64 = 1
            for _ in 1..<count { divisor *= 10 }
            var rest = value
            while divisor > 0 {
                bytes.append(UInt8(ascii: "0") + UInt8(truncatingIfNeeded: (rest / divisor) % 10))
                rest %= divisor
                divisor /= 10
            }
        }
        digits(min(max(year, 0), 9999), 4)
        bytes.append(UInt8(ascii: "-"))
        digits(month, 2)
        bytes.append(UInt8(ascii: "-"))
        digits(day, 2)
        bytes.append(UInt8(ascii: "T"))
        digits(ofDay / 3_600_000, 2)
        bytes.append(UInt8(ascii: ":"))
        digits(ofDay / 60_000 % 60, 2)
        bytes.append(UInt8(ascii: ":"))
        digits(ofDay / 1000 % 60, 2)
        bytes.append(UInt8(ascii: "."))
        digits(ofDay % 1000, 3)
        bytes.append(UInt8(ascii: "Z"))
        return bytes
    }

    /// Parses exactly the form `string(_:)` writes; nil for anything else.
    package static func date(_ text: String) -> Date? {
        let bytes = Array(text.utf8)
        guard bytes.count == 24, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
            bytes[10] == UInt8(ascii: "T"), bytes[13] == UInt8(ascii: ":"), bytes[16] == UInt8(ascii: ":"),
            bytes[19] == UInt8(ascii: "."), bytes[23] == UInt8(ascii: "Z")
        else { return nil }
        func number(_ range: Range<Int>) -> Int64? {
            var value: Int64 = 0
            for byte in bytes[range] {
                guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
                value = value * 10 + Int64(byte - UInt8(ascii: "0"))
            }
            return value
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
            let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19),
            let millisecond = number(20..<23),
            (1...12).contains(month), hour < 24, minute < 60, second < 60
        else { return nil }
        let days = days(fromCivil: year, month, day)
        // Reject days past the month's end: they would come back as another date.
        guard day >= 1, civil(fromDays: days) == (year, month, day) else { return nil }
        let milliseconds = days * millisecondsPerDay + ((hour * 60 + minute) * 60 + second) * 1000 + millisecond
        return Date(unixMilliseconds: milliseconds)
    }

    private static func floorDivide(_ a: Int64, _ b: Int64) -> Int64 {
        a >= 0 ? a / b : -((-a + b - 1) / b)
    }

    // Howard Hinnant's days_from_civil / civil_from_days (proleptic Gregorian calendar).
    private static func civil(fromDays days: Int64) -> (Int64, Int64, Int64) {
        let z = days + 719_468
        let era = floorDivide(z, 146_097)
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthPrime = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthPrime + 2) / 5 + 1
        let month = monthPrime < 10 ? monthPrime + 3 : monthPrime - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    private static func days(fromCivil year: Int64, _ month: Int64, _ day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = floorDivide(y, 400)
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}
