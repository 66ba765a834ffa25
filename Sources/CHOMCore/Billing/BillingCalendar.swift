package import Foundation

/// Billing periods are calendar months in UTC: a subscription's period runs from the first second
/// of a month to the first second of the next.
package enum BillingCalendar {
    private static let utc: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar
    }()

    /// The calendar month (UTC) that holds `date`.
    package static func month(containing date: Date) -> DateInterval {
        let start = utc.dateInterval(of: .month, for: date)!.start
        return DateInterval(start: start, end: utc.date(byAdding: .month, value: 1, to: start)!)
    }

    /// A subscription's first period: from `start` (to the second) to the end of its month, so a
    /// subscription that starts mid-month pays that month's base fee for its hours only.
    package static func firstPeriod(startingAt start: Date) -> DateInterval {
        let second = Date(timeIntervalSince1970: start.timeIntervalSince1970.rounded(.down))
        return DateInterval(start: second, end: month(containing: second).end)
    }

    /// The month after `period`'s (the period that starts where it ends).
    package static func next(after period: DateInterval) -> DateInterval {
        month(containing: period.end)
    }
}
