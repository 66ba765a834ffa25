import CHOMCore
import Foundation
import Testing

@Suite("Proration: whole seconds, integer minor units, halves away from zero")
struct ProrationTests {
    static let start = Date(timeIntervalSince1970: 1_798_761_600)  // 2027-01-01T00:00:00Z
    static let month = DateInterval(start: start, duration: 30 * 86_400)

    @Test("an upgrade on day 10 of 30: two thirds of the old price back, two thirds of the new one charged")
    func upgrade() throws {
        let lines = try Proration.planChange(
            from: Money(minor: 3_000, currency: "EUR"), to: Money(minor: 9_000, currency: "EUR"),
            period: Self.month, at: Self.start.addingTimeInterval(10 * 86_400))
        #expect(lines == [
            ProrationLine(kind: .credit, amount: try Money(minor: -2_000, currency: "EUR"), seconds: 20 * 86_400),
            ProrationLine(kind: .charge, amount: try Money(minor: 6_000, currency: "EUR"), seconds: 20 * 86_400),
        ])
    }

    @Test("rounding: to the nearest minor unit, halves away from zero, for credits too")
    func rounding() {
        #expect(Proration.share(of: 1_000, part: 1, whole: 3) == 333)
        #expect(Proration.share(of: 1_000, part: 2, whole: 3) == 667)
        #expect(Proration.share(of: 1, part: 1, whole: 2) == 1)
        #expect(Proration.share(of: -1, part: 1, whole: 2) == -1)
        #expect(Proration.share(of: 3, part: 1, whole: 4) == 1)
        #expect(Proration.share(of: 1, part: 1, whole: 4) == 0)
        #expect(Proration.share(of: 999, part: 0, whole: 7) == 0)
        #expect(Proration.share(of: 999, part: 7, whole: 7) == 999)
        // No overflow: the largest amount over a year's seconds.
        #expect(Proration.share(of: .max, part: 31_536_000, whole: 31_536_000) == .max)
        #expect(Proration.share(of: .max, part: 1, whole: 2) == Int64.max / 2 + 1)
        #expect(Proration.share(of: .min, part: 5, whole: 5) == .min)
        #expect(Proration.share(of: .min, part: 1, whole: 2) == Int64.min / 2)
    }

    @Test("at the period's start the whole prices; at its end no line; fractions of a second are dropped")
    func bounds() throws {
        let old = try Money(minor: 500, currency: "EUR")
        let new = try Money(minor: 700, currency: "EUR")
        #expect(try Proration.planChange(from: old, to: new, period: Self.month, at: Self.start).map(\.amount.minor) == [-500, 700])
        #expect(try Proration.planChange(from: old, to: new, period: Self.month, at: Self.month.end) == [])
        // One minor unit a second: half a second before the end is one whole second left.
        let perSecond = try Money(minor: 30 * 86_400, currency: "EUR")
        let lastSecond = try Proration.planChange(
            from: perSecond, to: perSecond, period: Self.month, at: Self.month.end.addingTimeInterval(-0.5))
        #expect(lastSecond.map(\.amount.minor) == [-1, 1])
        #expect(lastSecond.map(\.seconds) == [1, 1])
        // A free plan gives no credit line.
        let free = try Money(minor: 0, currency: "EUR")
        #expect(try Proration.planChange(from: free, to: new, period: Self.month, at: Self.start).map(\.kind) == [.charge])
    }

    @Test("bad input is refused with the reason: another currency, a time outside the period, an empty period, a bad code")
    func refusals() throws {
        let eur = try Money(minor: 500, currency: "EUR")
        let usd = try Money(minor: 500, currency: "USD")
        #expect(throws: BillingRuleError.currencyMismatch("EUR", "USD")) {
            try Proration.planChange(from: eur, to: usd, period: Self.month, at: Self.start)
        }
        #expect(throws: BillingRuleError.outsidePeriod) {
            try Proration.planChange(from: eur, to: eur, period: Self.month, at: Self.start.addingTimeInterval(-1))
        }
        #expect(throws: BillingRuleError.outsidePeriod) {
            try Proration.planChange(from: eur, to: eur, period: Self.month, at: Self.month.end.addingTimeInterval(1))
        }
        #expect(throws: BillingRuleError.outsidePeriod) {
            try Proration.planChange(from: eur, to: eur, period: Self.month, at: Self.start.addingTimeInterval(-0.25))
        }
        #expect(throws: BillingRuleError.emptyPeriod) {
            try Proration.planChange(from: eur, to: eur, period: DateInterval(start: Self.start, duration: 0), at: Self.start)
        }
        #expect(throws: BillingRuleError.periodTooLong) {
            try Proration.planChange(from: eur, to: eur, period: DateInterval(start: Self.start, duration: 1e12), at: Self.start)
        }
        #expect(throws: BillingRuleError.negativePrice) {
            try Proration.planChange(from: Money(minor: .min, currency: "EUR"), to: eur, period: Self.month, at: Self.start)
        }
        for code in ["eur", "EU", "EURO", "€UR", ""] {
            #expect(throws: BillingRuleError.invalidCurrency(code)) { try Money(minor: 1, currency: code) }
        }
        #expect(BillingRuleError.currencyMismatch("EUR", "USD").description == "a plan change cannot prorate between EUR and USD")
    }
}
