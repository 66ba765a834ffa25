import CHOMCore
import Foundation
import Testing

@Suite("Invoice lines: base fee by hours, overage per meter over the plan's limits, amounts rounded on their own")
struct InvoiceCalculatorTests {
    static let start = Date(timeIntervalSince1970: 1_798_761_600)  // 2027-01-01T00:00:00Z
    static let thirtyDays = DateInterval(start: start, duration: 30 * 86_400)
    static let gb: Int64 = 1_000_000_000

    static func pro() throws -> Plan {
        Plan(
            code: "pro", monthlyPrice: try Money(minor: 2_900, currency: "EUR"), includedSites: 10, includedStorageGB: 20,
            includedBandwidthGB: 100, includedBackupGB: 10, includedMembers: 5,
            overage: [
                .siteHours: try Money(minor: 300, currency: "EUR"), .storageByteHours: try Money(minor: 10, currency: "EUR"),
                .bandwidthBytes: try Money(minor: 5, currency: "EUR"), .backupByteHours: try Money(minor: 8, currency: "EUR"),
            ])
    }

    @Test("a month with overage on three meters equals the hand-computed invoice to the minor unit")
    func handComputed() throws {
        let lines = try InvoiceCalculator.lines(plan: Self.pro(), period: Self.thirtyDays, usage: [
            .siteHours: 12 * 720,  // 12 sites all month: 2 site-months over → 600
            .storageByteHours: 25 * Self.gb * 720,  // 25 GB on average: 5 GB-months over → 50
            .bandwidthBytes: 150_500_000_000,  // 50.5 GB over at 5 → 252.5 → 253
            .backupByteHours: 9 * Self.gb * 720,  // under its 10 GB: no line
        ])
        #expect(lines.map(\.kind) == [.base, .overage, .overage, .overage])
        #expect(lines.map(\.amount.minor) == [2_900, 600, 50, 253])
        #expect(lines.map(\.quantity) == [720, 1_440, 5 * Self.gb * 720, 50_500_000_000])
        #expect(lines.compactMap(\.meter) == [.siteHours, .storageByteHours, .bandwidthBytes])
        #expect(lines.reduce(0) { $0 + $1.amount.minor } == 3_803)
        #expect(lines.allSatisfy { $0.amount.currency == "EUR" })
    }

    @Test("a site created mid-period is charged for its hours only; a 31-day period's base fee is 744/720 of the price")
    func partialPeriods() throws {
        let midMonth = try InvoiceCalculator.lines(
            plan: Self.pro(), period: Self.thirtyDays, usage: [.siteHours: 10 * 720 + 360])
        #expect(midMonth.map(\.amount.minor) == [2_900, 150])
        let longMonth = try InvoiceCalculator.lines(
            plan: Self.pro(), period: DateInterval(start: Self.start, duration: 31 * 86_400), usage: [:])
        #expect(longMonth.map(\.amount.minor) == [2_997])  // 2,996.67
        #expect(longMonth.first?.quantity == 744)
        // A started hour counts.
        let oneSecondMore = try InvoiceCalculator.lines(
            plan: Self.pro(), period: DateInterval(start: Self.start, duration: 30 * 86_400 + 1), usage: [:])
        #expect(oneSecondMore.first?.quantity == 721)
    }

    @Test("in the trial there is no base fee, but overage is charged")
    func trial() throws {
        let lines = try InvoiceCalculator.lines(
            plan: Self.pro(), period: Self.thirtyDays, usage: [.bandwidthBytes: 101 * Self.gb], inTrial: true)
        #expect(lines.map(\.kind) == [.overage])
        #expect(lines.map(\.amount.minor) == [5])
    }

    @Test("no overage without a price, below the limit, for negative usage or on an unlimited plan")
    func noOverage() throws {
        var plan = try Self.pro()
        plan.overage[.bandwidthBytes] = nil
        plan.includedSites = .max
        let lines = try InvoiceCalculator.lines(plan: plan, period: Self.thirtyDays, usage: [
            .bandwidthBytes: 10_000 * Self.gb, .siteHours: .max, .storageByteHours: -5, .backupByteHours: 10 * Self.gb * 720,
        ])
        #expect(lines.map(\.kind) == [.base])
    }

    @Test("bad input is refused: an empty period, an overage price in another currency")
    func refusals() throws {
        #expect(throws: BillingRuleError.emptyPeriod) {
            try InvoiceCalculator.lines(plan: Self.pro(), period: DateInterval(start: Self.start, duration: 0), usage: [:])
        }
        #expect(throws: BillingRuleError.periodTooLong) {
            try InvoiceCalculator.lines(plan: Self.pro(), period: DateInterval(start: Self.start, duration: 1e12), usage: [:])
        }
        var negative = try Self.pro()
        negative.overage[.bandwidthBytes] = try Money(minor: -5, currency: "EUR")
        #expect(throws: BillingRuleError.negativePrice) {
            try InvoiceCalculator.lines(plan: negative, period: Self.thirtyDays, usage: [:])
        }
        var plan = try Self.pro()
        plan.overage[.siteHours] = try Money(minor: 300, currency: "USD")
        #expect(throws: BillingRuleError.currencyMismatch("EUR", "USD")) {
            try InvoiceCalculator.lines(plan: plan, period: Self.thirtyDays, usage: [:])
        }
    }

    @Test("scaling rounds halves away from zero and saturates instead of overflowing")
    func scaling() {
        #expect(InvoiceCalculator.scaled(5, by: 1, per: 2) == 3)
        #expect(InvoiceCalculator.scaled(-5, by: 1, per: 2) == -3)
        #expect(InvoiceCalculator.scaled(7, by: 3, per: 2) == 11)  // 10.5
        #expect(InvoiceCalculator.scaled(.max, by: 2, per: 1) == .max)
        #expect(InvoiceCalculator.scaled(.min, by: 2, per: 1) == .min)
        #expect(InvoiceCalculator.scaled(1_000, by: .max, per: .max) == 1_000)
        // A quotient of UInt64.max that rounds up saturates rather than trapping.
        #expect(InvoiceCalculator.scaled(9_204_196_627_214_745_089, by: 1_443, per: 720) == .max)
        #expect(InvoiceCalculator.scaled(-9_204_196_627_214_745_089, by: 1_443, per: 720) == .min)
    }
}
