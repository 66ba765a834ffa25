@testable import CHOMCoordinator
import CHOMCore
import CHOMStore
import Foundation
import Testing

@Suite("Plan changes and the period's statement, as pure rules")
struct PlanChangeTests {
    /// November 2026 (720 hours): a monthly price is charged exactly.
    static let november = DateInterval(
        start: Date(timeIntervalSince1970: 1_793_491_200), end: Date(timeIntervalSince1970: 1_796_083_200))
    /// 2026-11-16 00:00 UTC: half of November left.
    static let midMonth = Date(timeIntervalSince1970: 1_794_787_200)

    static func plan(_ code: String, _ minor: Int64, currency: String = "EUR", sites: Int64 = 10, archived: Bool = false)
        throws -> PlanRecord
    {
        PlanRecord(
            plan: Plan(
                code: code, monthlyPrice: try Money(minor: minor, currency: currency), includedSites: sites,
                includedStorageGB: 1, includedBandwidthGB: 100, includedBackupGB: 1, includedMembers: 5,
                overage: [
                    .siteHours: try Money(minor: 720, currency: currency),
                    .bandwidthBytes: try Money(minor: 3, currency: currency),
                ]),
            name: code, archived: archived, createdAt: midMonth, updatedAt: midMonth)
    }

    static func subscription(_ code: String, status: SubscriptionStatus = .active) -> SubscriptionRecord {
        SubscriptionRecord(
            organizationID: OrganizationID(), planCode: code, status: status, period: november, periodPlanCode: code,
            createdAt: november.start, updatedAt: november.start)
    }

    @Test("an upgrade at mid-month: credit half the old price, charge half the new; the invoice adds up by hand")
    func upgradeNow() throws {
        let basic = try Self.plan("basic", 3_000)
        let pro = try Self.plan("pro", 6_000, sites: 20)
        let (next, adjustments) = try PlanChange.apply(
            to: Self.subscription("basic"), from: basic, to: pro, effective: .now, now: Self.midMonth)
        #expect(next.planCode == "pro" && next.periodPlanCode == "basic" && next.pendingPlanCode == nil)
        #expect(adjustments.map(\.kind) == [.prorationCredit, .prorationCharge])
        #expect(adjustments.map(\.amount.minor) == [-1_500, 3_000])
        #expect(adjustments.map(\.seconds) == [15 * 86_400, 15 * 86_400])
        // Usage: 11 sites for the whole month (7,920 site-hours) and 101 GB of bandwidth.
        let lines = try BillingStatement.lines(
            subscription: next, periodPlan: basic, plan: pro,
            usage: [.siteHours: 11 * 720, .bandwidthBytes: 101_000_000_000], adjustments: adjustments)
        // base 3,000 (720 of 720 hours of basic) − 1,500 + 3,000; overage against basic's allowance,
        // the plan the period started on: 11 sites of 10 is 720 site-hours over, a site-month at 720,
        // and 1 GB over 100 at 3. (Against pro's 20 sites there would be no site overage: an
        // upgrade late in the period does not waive the period's overage.)
        #expect(lines.map(\.kind) == [.base, .proration, .proration, .overage, .overage])
        #expect(lines.map(\.amount.minor) == [3_000, -1_500, 3_000, 720, 3])
        #expect(BillingStatement.total(lines) == 5_223)
    }

    @Test("at period end only the pending plan is set; asking for the current plan drops it; same plan twice is a conflict")
    func atPeriodEnd() throws {
        let basic = try Self.plan("basic", 3_000)
        let pro = try Self.plan("pro", 6_000)
        let (pending, adjustments) = try PlanChange.apply(
            to: Self.subscription("basic"), from: basic, to: pro, effective: .periodEnd, now: Self.midMonth)
        #expect(pending.planCode == "basic" && pending.pendingPlanCode == "pro" && adjustments.isEmpty)
        let (dropped, none) = try PlanChange.apply(to: pending, from: basic, to: basic, effective: .now, now: Self.midMonth)
        #expect(dropped.pendingPlanCode == nil && dropped.planCode == "basic" && none.isEmpty)
        #expect(throws: CHOMError.self) {
            try PlanChange.apply(to: dropped, from: basic, to: basic, effective: .now, now: Self.midMonth)
        }
    }

    @Test("refused: an archived plan, another currency, a canceled subscription; a trial prorates nothing")
    func refusals() throws {
        let basic = try Self.plan("basic", 3_000)
        #expect(throws: CHOMError.self) {
            try PlanChange.apply(
                to: Self.subscription("basic"), from: basic, to: try Self.plan("old", 100, archived: true), effective: .now,
                now: Self.midMonth)
        }
        #expect(throws: CHOMError.self) {
            try PlanChange.apply(
                to: Self.subscription("basic"), from: basic, to: try Self.plan("usd", 100, currency: "USD"),
                effective: .now, now: Self.midMonth)
        }
        #expect(throws: CHOMError.self) {
            try PlanChange.apply(
                to: Self.subscription("basic", status: .canceled), from: basic, to: try Self.plan("pro", 6_000),
                effective: .now, now: Self.midMonth)
        }
        let (trialing, adjustments) = try PlanChange.apply(
            to: Self.subscription("basic", status: .trialing), from: basic, to: try Self.plan("pro", 6_000), effective: .now,
            now: Self.midMonth)
        #expect(trialing.planCode == "pro" && adjustments.isEmpty)
        // A trial that covers the period leaves no base line; overage still counts.
        var covered = trialing
        covered.trialEndsAt = Self.november.end.addingTimeInterval(86_400)
        let lines = try BillingStatement.lines(
            subscription: covered, periodPlan: basic, plan: try Self.plan("pro", 6_000),
            usage: [.bandwidthBytes: 102_000_000_000], adjustments: [])
        #expect(lines.map(\.kind) == [.overage] && lines.map(\.amount.minor) == [6])
        // A trial that ends mid-period: the rest of the period's base fee is charged (360 of 720 hours).
        var halfway = trialing
        halfway.trialEndsAt = Self.midMonth
        let rest = try BillingStatement.lines(
            subscription: halfway, periodPlan: basic, plan: basic, usage: [:], adjustments: [])
        #expect(rest.map(\.kind) == [.base] && rest.map(\.amount.minor) == [1_500] && rest.first?.quantity == 360)
    }
}
