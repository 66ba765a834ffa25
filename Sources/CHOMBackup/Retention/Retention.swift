package import Foundation

/// Which backups a prune keeps and which it deletes. Pure: no clock, no storage.
///
/// The rules follow restic's `forget`. Backups are taken newest first (ties broken by id, so
/// the outcome never depends on input order):
/// - `keepLast` keeps the N newest;
/// - `keepDaily` walks the backups and keeps the first (newest) one of each new calendar day
///   until N days are kept; `keepWeekly` does the same with ISO-8601 weeks (Monday first, week 1
///   holds the first Thursday, so 2021-01-01 belongs to 2020-W53), `keepMonthly` with months;
/// - the newest verified backup is always kept, whatever the policy says;
/// - if nothing is kept at all (all-zero policy, nothing verified), the newest backup is kept:
///   a prune never empties a site's backups.
/// Day, week and month boundaries are those of `calendar`'s time zone, UTC by default.
package enum Retention {
    /// Why a backup is kept. One backup can have several reasons.
    package enum Reason: String, Sendable, Hashable, CaseIterable {
        case last
        case daily
        case weekly
        case monthly
        case newestVerified = "newest_verified"
        /// The fallback when no rule and no verified backup kept anything.
        case newest
    }

    package struct Decision: Sendable, Equatable {
        package var keep: Set<String>
        /// Ids to delete, oldest first (ties by id), each once.
        package var prune: [String]
        /// For each kept id, the rules that kept it.
        package var reasons: [String: Set<Reason>]
    }

    /// A Gregorian calendar in UTC.
    package static let utc: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar
    }()

    package static func select(
        backups: [BackupRef], policy: RetentionPolicy, calendar: Calendar = utc
    ) -> Decision {
        let newestFirst = backups.sorted { a, b in
            a.createdAt != b.createdAt ? a.createdAt > b.createdAt : a.id > b.id
        }
        var reasons: [String: Set<Reason>] = [:]

        for backup in newestFirst.prefix(policy.keepLast) {
            reasons[backup.id, default: []].insert(.last)
        }

        let day = calendar
        var isoWeek = Calendar(identifier: .gregorian)
        isoWeek.timeZone = calendar.timeZone
        isoWeek.firstWeekday = 2
        isoWeek.minimumDaysInFirstWeek = 4
        let buckets: [(Reason, Int, (Date) -> Int)] = [
            (.daily, policy.keepDaily, { date in
                let parts = day.dateComponents([.year, .month, .day], from: date)
                return parts.year! * 10_000 + parts.month! * 100 + parts.day!
            }),
            (.weekly, policy.keepWeekly, { date in
                let parts = isoWeek.dateComponents([.yearForWeekOfYear, .weekOfYear], from: date)
                return parts.yearForWeekOfYear! * 100 + parts.weekOfYear!
            }),
            (.monthly, policy.keepMonthly, { date in
                let parts = day.dateComponents([.year, .month], from: date)
                return parts.year! * 100 + parts.month!
            }),
        ]
        for (reason, count, key) in buckets where count > 0 {
            var remaining = count
            var lastKey: Int?
            for backup in newestFirst {
                guard remaining > 0 else { break }
                let current = key(backup.createdAt)
                if current != lastKey {
                    reasons[backup.id, default: []].insert(reason)
                    lastKey = current
                    remaining -= 1
                }
            }
        }

        if let newestVerified = newestFirst.first(where: \.verified) {
            reasons[newestVerified.id, default: []].insert(.newestVerified)
        }
        if reasons.isEmpty, let newest = newestFirst.first {
            reasons[newest.id] = [.newest]
        }

        let keep = Set(reasons.keys)
        var seen: Set<String> = []
        var prune: [String] = []
        for backup in newestFirst.reversed() where !keep.contains(backup.id) && seen.insert(backup.id).inserted {
            prune.append(backup.id)
        }
        return Decision(keep: keep, prune: prune, reasons: reasons)
    }
}
