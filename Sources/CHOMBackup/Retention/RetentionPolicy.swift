package import CHOMCore

/// How many backups a site keeps, like restic's `forget`: the `keepLast` newest, plus the newest
/// backup of each of the `keepDaily` most recent days that have one, and likewise ISO weeks and
/// months. A backup kept by any rule is kept. All zero keeps only the newest verified backup
/// (see ``Retention``). Every count is ≥ 0; the initializer and the decoder refuse anything else.
package struct RetentionPolicy: Sendable, Hashable, Codable, CustomStringConvertible {
    package let keepLast: Int
    package let keepDaily: Int
    package let keepWeekly: Int
    package let keepMonthly: Int

    package init(keepLast: Int = 0, keepDaily: Int = 0, keepWeekly: Int = 0, keepMonthly: Int = 0) throws(CHOMError) {
        for (name, value) in [
            ("keep_last", keepLast), ("keep_daily", keepDaily), ("keep_weekly", keepWeekly),
            ("keep_monthly", keepMonthly),
        ] where value < 0 {
            throw CHOMError(.invalidInput, "retention \(name) must be 0 or more, not \(value)")
        }
        self.init(checkedLast: keepLast, daily: keepDaily, weekly: keepWeekly, monthly: keepMonthly)
    }

    private init(checkedLast last: Int, daily: Int, weekly: Int, monthly: Int) {
        keepLast = last
        keepDaily = daily
        keepWeekly = weekly
        keepMonthly = monthly
    }

    /// Keeps nothing by rule: only the newest verified backup survives a prune.
    package static let minimal = RetentionPolicy(checkedLast: 0, daily: 0, weekly: 0, monthly: 0)

    /// True when no rule keeps anything.
    package var isEmpty: Bool { keepLast == 0 && keepDaily == 0 && keepWeekly == 0 && keepMonthly == 0 }

    package var description: String {
        "last=\(keepLast) daily=\(keepDaily) weekly=\(keepWeekly) monthly=\(keepMonthly)"
    }

    private enum CodingKeys: String, CodingKey {
        case keepLast = "keep_last"
        case keepDaily = "keep_daily"
        case keepWeekly = "keep_weekly"
        case keepMonthly = "keep_monthly"
    }

    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        try self.init(
            keepLast: container.decodeIfPresent(Int.self, forKey: .keepLast) ?? 0,
            keepDaily: container.decodeIfPresent(Int.self, forKey: .keepDaily) ?? 0,
            keepWeekly: container.decodeIfPresent(Int.self, forKey: .keepWeekly) ?? 0,
            keepMonthly: container.decodeIfPresent(Int.self, forKey: .keepMonthly) ?? 0)
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(keepLast, forKey: .keepLast)
        try container.encode(keepDaily, forKey: .keepDaily)
        try container.encode(keepWeekly, forKey: .keepWeekly)
        try container.encode(keepMonthly, forKey: .keepMonthly)
    }
}
