import CHOMAudit
import CHOMAPI
@testable import CHOMCoordinator
import CHOMCore
import CHOMStore
import CHOMTesting
import Foundation
import Logging
import PostgresNIO
import Testing

/// The period close over simulated time against real PostgreSQL: usage replayed and late, a plan
/// upgraded mid-period, the invoice equal to one computed by hand, a crash halfway leaving no
/// invoice and no gap in the numbers, catching up on missed months, and finalized invoices fixed.
@Suite("Billing period close: one invoice per period, gapless numbers, equal to the hand-computed one")
struct PeriodCloseTests {
    static let hour: TimeInterval = 3_600
    /// 2026-11-16 00:00 UTC; the first period runs to December 1st (360 hours).
    static let start = Date(timeIntervalSince1970: 1_794_787_200)
    static let december = Date(timeIntervalSince1970: 1_796_083_200)
    static let gb: Int64 = 1_000_000_000

    static func terms() -> CoordinatorConfiguration.Billing {
        var basic = CoordinatorConfiguration.Billing.PlanTerms(
            code: "basic", name: "Basic", currency: "EUR", monthlyPriceMinor: 3_000)
        basic.includedSites = 1
        basic.includedBandwidthGB = 10
        basic.overage = ["site_hours": 720, "bandwidth_bytes": 3]
        var billing = CoordinatorConfiguration.Billing()
        billing.defaultPlan = basic
        return billing
    }

    static func pro() throws -> PlanRecord {
        var pro = CoordinatorConfiguration.Billing.PlanTerms(code: "pro", name: "Pro", currency: "EUR", monthlyPriceMinor: 6_000)
        pro.includedSites = 5
        pro.includedBandwidthGB = 100
        pro.overage = ["site_hours": 720, "bandwidth_bytes": 3]
        return try pro.record(now: start)
    }

    func makeOrganization(_ store: Store, quotas: BillingQuotas, at now: Date) async throws -> (OrganizationID, TenantID) {
        try await store.write(now: now) { transaction in
            let organization = try await store.organizations.create(
                id: OrganizationID(), name: "org", now: now, in: transaction)
            let tenant = try await store.organizations.createTenant(
                id: TenantID(), organization: organization.id, name: "default", now: now, in: transaction)
            _ = try await quotas.subscription(organization.id, now: now, in: transaction)
            try await transaction.record(AuditEntry(time: now, actor: "test", action: "organization.create", target: "o"))
            return (organization.id, tenant.id)
        }
    }

    @Test("a site created mid-period, an upgrade mid-period, replayed and late samples: the invoice is the hand-computed one")
    func handComputed() async throws {
        try await ThrowawayPostgres.withStore { store in
            let billing = Self.terms()
            let quotas = BillingQuotas(store: store, configuration: billing)
            try await store.billing.ensurePlan(try billing.defaultPlan.record(now: Self.start))
            try await store.billing.ensurePlan(try Self.pro())
            let (organization, tenant) = try await makeOrganization(store, quotas: quotas, at: Self.start)
            let agent = UUID()
            var sequence: Int64 = 0
            func sample(_ meter: Meter, _ quantity: Int64, hour: Date, site: SiteID) -> UsageRow {
                sequence += 1
                return UsageRow(
                    key: .init(agent: agent, sequence: sequence), hour: UsageMetering.hour(of: hour), meter: meter,
                    quantity: quantity, site: site, tenant: tenant, organization: organization)
            }
            // Site A for the whole period (360 hours); site B created on the 20th (264 hours).
            let siteA = SiteID()
            let siteB = SiteID()
            var rows: [UsageRow] = []
            for h in 0..<360 { rows.append(sample(.siteHours, 1, hour: Self.start + Double(h) * Self.hour, site: siteA)) }
            for h in 96..<360 { rows.append(sample(.siteHours, 1, hour: Self.start + Double(h) * Self.hour, site: siteB)) }
            rows.append(sample(.bandwidthBytes, 120 * Self.gb, hour: Self.start + 200 * Self.hour, site: siteA))
            #expect(try await store.billing.append(rows) == rows.count)
            // The agent reconnects and replays everything: nothing counts twice.
            #expect(try await store.billing.append(rows) == 0)
            // A late sample from the 17th arrives on the 29th: it counts, in its own hour.
            let late = sample(.bandwidthBytes, 30 * Self.gb, hour: Self.start + 30 * Self.hour, site: siteB)
            #expect(try await store.billing.append([late]) == 1)

            // Halfway through the period (7.5 days in) the owner upgrades to pro, at once.
            let upgrade = Self.start + 180 * Self.hour
            try await store.write(now: upgrade) { transaction in
                let (subscription, current) = try await quotas.subscription(organization, now: upgrade, in: transaction)
                let (next, adjustments) = try PlanChange.apply(
                    to: subscription, from: current, to: try Self.pro(), effective: .now, now: upgrade)
                try await store.billing.save(next, in: transaction)
                try await store.billing.addAdjustments(
                    adjustments, organization: organization, period: subscription.period, in: transaction)
                try await transaction.record(AuditEntry(time: upgrade, actor: "test", action: "change", target: "o"))
            }

            let close = BillingClose(store: store, quotas: quotas, issuer: "Test Hosting", logger: Logger(label: "test"))
            #expect(try await close.tick(now: Self.december - 1).isEmpty, "the period has not ended")
            let invoices = try await close.tick(now: Self.december + 5)
            let invoice = try #require(invoices.first)
            #expect(invoices.count == 1)
            // By hand:
            // - base: basic, 360 of 720 hours of 3,000 = 1,500;
            // - proration at the half: −750 (half of basic's 1,500), +1,500 (half of pro's 3,000);
            // - overage against basic, the plan the period started on: site-hours 360 + 264 = 624,
            //   264 over basic's 1 site × 360 h, at 720 a site-month (720 h): 264;
            // - bandwidth 120 + 30 = 150 GB, 140 over basic's 10, at 3 each: 420.
            #expect(invoice.lines.map(\.kind) == [.base, .proration, .proration, .overage, .overage])
            #expect(invoice.lines.map(\.amount.minor) == [1_500, -750, 1_500, 264, 420])
            #expect(invoice.lines.last?.quantity == 140 * Self.gb)
            #expect(invoice.totalMinor == 2_934 && invoice.number == 1 && invoice.planCode == "pro")
            #expect(invoice.period == DateInterval(start: Self.start, end: Self.december))
            let stored = try #require(try await store.invoices.get(invoice.id, organization: organization))
            #expect(stored.lines == invoice.lines && stored.totalMinor == 2_934)

            // The next period is December, on pro, with nothing pending; a second pass makes nothing.
            let subscription = try #require(try await store.billing.subscription(organization))
            #expect(subscription.period.start == Self.december && subscription.planCode == "pro")
            #expect(subscription.periodPlanCode == "pro" && subscription.pendingPlanCode == nil)
            #expect(try await close.tick(now: Self.december + 10).isEmpty)
            #expect(try await count(store, "SELECT count(*) FROM invoices") == 1)
        }
    }

    @Test("a crash between writing the lines and finalizing leaves no invoice and no gap; the rerun makes exactly one")
    func crashHalfway() async throws {
        try await ThrowawayPostgres.withStore { store in
            let billing = Self.terms()
            let quotas = BillingQuotas(store: store, configuration: billing)
            try await store.billing.ensurePlan(try billing.defaultPlan.record(now: Self.start))
            let (first, _) = try await makeOrganization(store, quotas: quotas, at: Self.start)
            let (second, _) = try await makeOrganization(store, quotas: quotas, at: Self.start)
            struct Crash: Error {}
            var crashing = BillingClose(store: store, quotas: quotas, issuer: "Test Hosting", logger: Logger(label: "test"))
            crashing.afterLines = { organization in if organization == first { throw Crash() } }
            await #expect(throws: Crash.self) { try await crashing.close(first, now: Self.december) }
            #expect(try await count(store, "SELECT count(*) FROM invoices") == 0)
            #expect(try await count(store, "SELECT count(*) FROM invoice_lines") == 0)
            #expect(try await store.billing.subscription(first)?.period.start == Self.start, "the period did not advance")

            let close = BillingClose(store: store, quotas: quotas, issuer: "Test Hosting", logger: Logger(label: "test"))
            let again = try await close.close(first, now: Self.december)
            let other = try await close.close(second, now: Self.december)
            #expect(again.map(\.number) == [1] && other.map(\.number) == [2])
            #expect(try await close.close(first, now: Self.december).isEmpty)
            #expect(try await count(store, "SELECT count(*) FROM invoices WHERE organization_id = '\(first)'") == 1)
            // Another issuer numbers from 1 on its own.
            let (third, _) = try await makeOrganization(store, quotas: quotas, at: Self.start)
            let elsewhere = BillingClose(store: store, quotas: quotas, issuer: "Other Hosting", logger: Logger(label: "test"))
            #expect(try await elsewhere.close(third, now: Self.december).map(\.number) == [1])
        }
    }

    @Test("months missed while no leader ran are closed one by one, in order; finalized invoices cannot be changed")
    func catchUpAndImmutable() async throws {
        try await ThrowawayPostgres.withStore { store in
            let billing = Self.terms()
            let quotas = BillingQuotas(store: store, configuration: billing)
            try await store.billing.ensurePlan(try billing.defaultPlan.record(now: Self.start))
            let (organization, _) = try await makeOrganization(store, quotas: quotas, at: Self.start)
            let close = BillingClose(store: store, quotas: quotas, issuer: "Test Hosting", logger: Logger(label: "test"))
            // February 2nd, 2027: November's half, December and January are due.
            let invoices = try await close.tick(now: Date(timeIntervalSince1970: 1_801_526_400))
            #expect(invoices.map(\.number) == [1, 2, 3])
            #expect(invoices.map(\.totalMinor) == [1_500, 3_100, 3_100], "744-hour months: 3,000 × 744 / 720")
            #expect(invoices.map(\.period.start) == [
                Self.start, Self.december, Date(timeIntervalSince1970: 1_798_761_600),
            ])
            let id = invoices[0].id
            await #expect(throws: (any Error).self) {
                try await store.client.query("UPDATE invoices SET total_minor = 0 WHERE id = \(id)")
            }
            await #expect(throws: (any Error).self) {
                try await store.client.query("DELETE FROM invoice_lines WHERE invoice_id = \(id)")
            }
            await #expect(throws: (any Error).self) { try await store.client.query("DELETE FROM invoices WHERE id = \(id)") }
            // Its payment state may change.
            try await store.client.query("UPDATE invoices SET status = 'paid', paid_at = now() WHERE id = \(id)")
            #expect(try await store.invoices.get(id, organization: organization)?.totalMinor == 1_500)
        }
    }

    func count(_ store: Store, _ sql: String) async throws -> Int {
        for try await value in try await store.client.query(PostgresQuery(unsafeSQL: sql)).decode(Int.self) { return value }
        return 0
    }
}
