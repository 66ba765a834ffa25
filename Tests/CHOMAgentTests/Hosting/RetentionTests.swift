import CHOMBackup
import CHOMCore
import Foundation
import Testing

@Suite("Backup retention")
struct RetentionTests {
    typealias F = HostingFixtures

    /// 100 days, 2020-10-03 … 2021-01-10 (a Sunday), two backups a day: 00:30 and 23:30 UTC.
    /// The late one sits 30 minutes before midnight, so a day, week or month counted in any zone
    /// east of UTC would change the answer.
    static let hundredDays: [BackupRef] = (0..<100).flatMap { offset -> [BackupRef] in
        let day = F.date(2020, 10, 3).addingTimeInterval(Double(offset) * 86_400)
        let midnight = Calendar.utcForTests.startOfDay(for: day)
        return [
            midnight.addingTimeInterval(30 * 60), midnight.addingTimeInterval(23 * 3600 + 30 * 60),
        ].map { BackupRef(id: F.stamp($0), createdAt: $0) }
    }

    /// A policy from counts the test knows are valid.
    static func policy(last: Int = 0, daily: Int = 0, weekly: Int = 0, monthly: Int = 0) -> RetentionPolicy {
        // Valid by construction: every count is ≥ 0.
        try! RetentionPolicy(keepLast: last, keepDaily: daily, keepWeekly: weekly, keepMonthly: monthly)
    }

    static func backups(_ stamps: [Date], verified: Set<Int> = []) -> [BackupRef] {
        stamps.enumerated().map { BackupRef(id: F.stamp($1), createdAt: $1, verified: verified.contains($0)) }
    }

    @Test("100 days: last 2, daily 7, weekly 4 (ISO, across the new year), monthly 3 keep exactly 13")
    func hundredDays() throws {
        #expect(Self.hundredDays.count == 200)
        #expect(Self.hundredDays.first?.id == "2020-10-03T00:30")
        #expect(Self.hundredDays.last?.id == "2021-01-10T23:30")
        let policy = try RetentionPolicy(keepLast: 2, keepDaily: 7, keepWeekly: 4, keepMonthly: 3)
        let decision = Retention.select(backups: Self.hundredDays.shuffled(), policy: policy)

        let daily = (4...10).map { "2021-01-\($0 < 10 ? "0" : "")\($0)T23:30" }
        // ISO weeks: 2021-W01 = Jan 4–10, 2020-W53 = Dec 28 – Jan 3, W52 = Dec 21–27, W51 = Dec 14–20.
        let weekly = ["2021-01-10T23:30", "2021-01-03T23:30", "2020-12-27T23:30", "2020-12-20T23:30"]
        let monthly = ["2021-01-10T23:30", "2020-12-31T23:30", "2020-11-30T23:30"]
        let last = ["2021-01-10T23:30", "2021-01-10T00:30"]
        #expect(decision.keep == Set(daily + weekly + monthly + last))
        #expect(decision.keep.count == 13)
        #expect(decision.reasons["2021-01-10T23:30"] == [.last, .daily, .weekly, .monthly])
        #expect(decision.reasons["2021-01-10T00:30"] == [.last])
        #expect(decision.reasons["2021-01-03T23:30"] == [.weekly])
        #expect(decision.reasons["2020-12-31T23:30"] == [.monthly])

        #expect(decision.prune.count == 187)
        #expect(decision.prune.first == "2020-10-03T00:30")
        #expect(decision.prune.last == "2021-01-09T00:30")
        let order = decision.prune.map { id in Self.hundredDays.first { $0.id == id }!.createdAt }
        #expect(order == order.sorted())
        #expect(Set(decision.prune).isDisjoint(with: decision.keep))
        #expect(Set(decision.prune).union(decision.keep) == Set(Self.hundredDays.map(\.id)))
    }

    /// Weekly buckets at two year boundaries: 2020-12-28…2021-01-03 is one week (2020-W53), and
    /// 2024-12-30 already belongs to 2025-W01.
    @Test("weekly retention counts ISO weeks across a year boundary", arguments: [
        ([F.date(2020, 12, 27), F.date(2020, 12, 28), F.date(2021, 1, 1), F.date(2021, 1, 3), F.date(2021, 1, 4)],
         ["2021-01-04T12:00", "2021-01-03T12:00", "2020-12-27T12:00"]),
        ([F.date(2024, 12, 29), F.date(2024, 12, 30), F.date(2025, 1, 5), F.date(2025, 1, 6)],
         ["2025-01-06T12:00", "2025-01-05T12:00", "2024-12-29T12:00"]),
        ([F.date(2021, 1, 3, 23, 59, 59), F.date(2021, 1, 4, 0, 0, 0), F.date(2021, 1, 4, 0, 0, 1)],
         ["2021-01-04T00:00:01", "2021-01-03T23:59:59"]),
    ])
    func isoWeeks(dates: [Date], kept: [String]) throws {
        let decision = Retention.select(backups: Self.backups(dates), policy: try RetentionPolicy(keepWeekly: 3))
        #expect(decision.keep == Set(kept))
    }

    @Test("days and months turn over at midnight UTC, not a second early or late", arguments: [
        (Retention.Reason.daily, [F.date(2021, 3, 1, 23, 59, 59), F.date(2021, 3, 2, 0, 0, 0), F.date(2021, 3, 2, 0, 0, 1)],
         ["2021-03-02T00:00:01", "2021-03-01T23:59:59"]),
        (.monthly, [F.date(2021, 1, 31, 23, 59, 59), F.date(2021, 2, 1, 0, 0, 0), F.date(2021, 2, 15)],
         ["2021-02-15T12:00", "2021-01-31T23:59:59"]),
        (.monthly, [F.date(2020, 12, 31, 23, 59, 59), F.date(2021, 1, 1, 0, 0, 0), F.date(2021, 1, 1, 0, 0, 1)],
         ["2021-01-01T00:00:01", "2020-12-31T23:59:59"]),
    ])
    func boundaries(rule: Retention.Reason, dates: [Date], kept: [String]) throws {
        let policy =
            rule == .daily ? Self.policy(daily: 2) : Self.policy(monthly: 2)
        let decision = Retention.select(backups: Self.backups(dates), policy: policy)
        #expect(decision.keep == Set(kept))
    }

    @Test("the calendar's time zone decides the day: UTC+1 moves 23:30 UTC into the next day")
    func calendarZone() throws {
        var berlinWinter = Calendar(identifier: .gregorian)
        berlinWinter.timeZone = TimeZone(secondsFromGMT: 3600)!
        let dates = [F.date(2021, 3, 1, 22, 0), F.date(2021, 3, 1, 23, 30), F.date(2021, 3, 2, 8, 0)]
        let policy = try RetentionPolicy(keepDaily: 2)
        #expect(Retention.select(backups: Self.backups(dates), policy: policy).keep == ["2021-03-02T08:00", "2021-03-01T23:30"])
        #expect(
            Retention.select(backups: Self.backups(dates), policy: policy, calendar: berlinWinter).keep
                == ["2021-03-02T08:00", "2021-03-01T22:00"])
    }

    @Test("the newest verified backup survives a policy that keeps only newer ones; older verified ones do not")
    func newestVerifiedIsKept() throws {
        let dates = (1...10).map { F.date(2021, 5, $0) }
        // Verified: May 2 and May 5. keepLast 3 keeps May 8–10.
        let decision = Retention.select(
            backups: Self.backups(dates, verified: [1, 4]), policy: try RetentionPolicy(keepLast: 3))
        #expect(decision.keep == ["2021-05-10T12:00", "2021-05-09T12:00", "2021-05-08T12:00", "2021-05-05T12:00"])
        #expect(decision.reasons["2021-05-05T12:00"] == [.newestVerified])
        #expect(decision.prune == (1...7).filter { $0 != 5 }.map { "2021-05-0\($0)T12:00" })
    }

    @Test("a verified backup a rule already keeps adds nothing")
    func verifiedAlreadyKept() throws {
        let dates = (1...5).map { F.date(2021, 5, $0) }
        let decision = Retention.select(backups: Self.backups(dates, verified: [4]), policy: try RetentionPolicy(keepLast: 2))
        #expect(decision.keep == ["2021-05-05T12:00", "2021-05-04T12:00"])
        #expect(decision.reasons["2021-05-05T12:00"] == [.last, .newestVerified])
    }

    @Test("an all-zero policy never empties a site", arguments: [
        (Set<Int>([0, 2]), ["2021-05-03T12:00"], Retention.Reason.newestVerified),
        (Set<Int>(), ["2021-05-04T12:00"], .newest),
        (Set([3]), ["2021-05-04T12:00"], .newestVerified),
    ])
    func neverEmpty(verified: Set<Int>, kept: [String], reason: Retention.Reason) {
        let dates = (1...4).map { F.date(2021, 5, $0) }
        let decision = Retention.select(backups: Self.backups(dates, verified: verified), policy: .minimal)
        #expect(decision.keep == Set(kept))
        #expect(decision.reasons[kept[0]] == [reason])
        #expect(decision.prune.count == 3)
    }

    @Test("no backups: nothing to keep, nothing to prune")
    func empty() throws {
        let decision = Retention.select(backups: [], policy: try RetentionPolicy(keepLast: 3))
        #expect(decision.keep.isEmpty && decision.prune.isEmpty && decision.reasons.isEmpty)
    }

    @Test("rules overlap instead of adding up", arguments: [
        // One backup a day for 10 days: last 3 and daily 3 keep the same three.
        (1, Self.policy(last: 3, daily: 3), 3),
        // Three a day: last 2 are both from the newest day, daily 2 adds the newest of the day before.
        (3, Self.policy(last: 2, daily: 2), 3),
        // Daily 10 already covers the two newest weeks' newest backups (10 days back from a Sunday).
        (1, Self.policy(daily: 10, weekly: 2), 10),
        // Daily 7 from Sunday reaches Monday; weekly 3 adds the Sundays of the two weeks before.
        (1, Self.policy(daily: 7, weekly: 3), 9),
    ])
    func overlap(perDay: Int, policy: RetentionPolicy, expected: Int) {
        // Days up to Sunday 2021-05-30, `perDay` backups each (hours 6, 12, 18).
        var dates: [Date] = []
        for day in 1...30 { for slot in 0..<perDay { dates.append(F.date(2021, 5, day, 6 + 6 * slot)) } }
        let decision = Retention.select(backups: Self.backups(dates), policy: policy)
        #expect(decision.keep.count == expected)
        #expect(decision.keep.count + decision.prune.count == dates.count)
    }

    @Test("the outcome does not depend on input order, and equal times are broken by id")
    func deterministic() throws {
        let same = F.date(2021, 6, 1)
        let backups = [
            BackupRef(id: "b", createdAt: same), BackupRef(id: "a", createdAt: same),
            BackupRef(id: "c", createdAt: same.addingTimeInterval(-60)), BackupRef(id: "d", createdAt: same.addingTimeInterval(-60)),
        ]
        let policy = try RetentionPolicy(keepLast: 1)
        let first = Retention.select(backups: backups, policy: policy)
        #expect(first.keep == ["b"])
        #expect(first.prune == ["c", "d", "a"])
        for _ in 0..<20 {
            #expect(Retention.select(backups: backups.shuffled(), policy: policy) == first)
        }
    }

    @Test("a negative count is refused, by the initializer and by the decoder", arguments: [
        "keep_last", "keep_daily", "keep_weekly", "keep_monthly",
    ])
    func negativeCounts(key: String) throws {
        let error = #expect(throws: CHOMError.self) {
            try JSONDecoder().decode(RetentionPolicy.self, from: Data("{\"\(key)\": -1}".utf8))
        }
        #expect(error?.code == .invalidInput)
        #expect(error?.message.contains(key) == true)
        #expect(throws: CHOMError.self) { try RetentionPolicy(keepWeekly: -1) }
    }

    @Test("a policy round-trips through JSON with snake_case keys, and missing keys mean 0")
    func codable() throws {
        let policy = try RetentionPolicy(keepLast: 5, keepDaily: 7, keepWeekly: 4, keepMonthly: 12)
        let data = try JSONEncoder().encode(policy)
        #expect(try JSONDecoder().decode(RetentionPolicy.self, from: data) == policy)
        #expect(String(decoding: data, as: UTF8.self).contains("\"keep_monthly\":12"))
        #expect(try JSONDecoder().decode(RetentionPolicy.self, from: Data("{}".utf8)) == .minimal)
        #expect(RetentionPolicy.minimal.isEmpty && !policy.isEmpty)
    }
}

extension Calendar {
    static let utcForTests: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = HostingFixtures.utc
        return calendar
    }()
}
