import CHOMCore
import Foundation
import Testing

@Suite("Quota rule and billing calendar")
struct QuotaPolicyTests {
    @Test("one more site or member is allowed up to the limit and refused at it, naming the limit and the usage")
    func countedQuotas() throws {
        try QuotaPolicy.check(.sites, limit: 10, usage: 9, plan: "pro")
        let refused = #expect(throws: QuotaExceeded.self) { try QuotaPolicy.check(.sites, limit: 10, usage: 10, plan: "pro") }
        #expect(refused == QuotaExceeded(quota: .sites, limit: 10, usage: 10, plan: "pro"))
        #expect(refused?.description == "the plan pro allows 10 sites and the organization has 10")
        #expect(throws: QuotaExceeded.self) { try QuotaPolicy.check(.members, limit: 3, usage: 2, adding: 2, plan: "pro") }
        try QuotaPolicy.check(.members, limit: 3, usage: 1, adding: 2, plan: "pro")
        // Over the limit already (a downgrade): still refused, with the real usage.
        let over = #expect(throws: QuotaExceeded.self) { try QuotaPolicy.check(.sites, limit: 2, usage: 7, plan: "s") }
        #expect(over?.usage == 7)
        // Unlimited never refuses, even at Int64's end; a zero or negative limit allows nothing.
        try QuotaPolicy.check(.sites, limit: .max, usage: .max, plan: "u")
        #expect(throws: QuotaExceeded.self) { try QuotaPolicy.check(.sites, limit: 0, usage: 0, plan: "z") }
        #expect(throws: QuotaExceeded.self) { try QuotaPolicy.check(.members, limit: -1, usage: 0, plan: "z") }
        // An addition that would overflow is refused, not wrapped.
        #expect(throws: QuotaExceeded.self) {
            try QuotaPolicy.check(.sites, limit: .max - 1, usage: .max - 1, adding: 5, plan: "big")
        }
    }

    @Test("storage is a hard limit on what is used: under it a backup may start, at or over it none")
    func storage() throws {
        try QuotaPolicy.check(.storage, limit: 1_000, usage: 999, plan: "p")
        #expect(throws: QuotaExceeded.self) { try QuotaPolicy.check(.storage, limit: 1_000, usage: 1_000, plan: "p") }
        #expect(throws: QuotaExceeded.self) { try QuotaPolicy.check(.storage, limit: 1_000, usage: 5_000, plan: "p") }
    }

    @Test("periods are UTC calendar months, whatever the instant inside them; the next starts where one ends")
    func calendar() {
        let utc = { (y: Int, m: Int, d: Int, h: Int) in
            DateComponents(calendar: Calendar(identifier: .gregorian), timeZone: TimeZone(identifier: "UTC"),
                year: y, month: m, day: d, hour: h).date!
        }
        let november = BillingCalendar.month(containing: utc(2026, 11, 16, 10))
        #expect(november == DateInterval(start: utc(2026, 11, 1, 0), end: utc(2026, 12, 1, 0)))
        #expect(BillingCalendar.month(containing: utc(2026, 11, 1, 0)) == november)
        #expect(BillingCalendar.month(containing: utc(2026, 12, 1, 0).addingTimeInterval(-1)) == november)
        #expect(BillingCalendar.next(after: november) == DateInterval(start: utc(2026, 12, 1, 0), end: utc(2027, 1, 1, 0)))
        #expect(BillingCalendar.month(containing: utc(2028, 2, 29, 23)).duration == 29 * 86_400)
    }
}
