import CHOMAPI
import CHOMAudit
@testable import CHOMCoordinator
import CHOMCore
import CHOMStore
import CHOMTesting
import Foundation
import Logging
import PostgresNIO
import Testing

/// The Stripe push interrupted at its worst moments, against real PostgreSQL and a real, stateful
/// Stripe server (localstripe): an item created but not recorded, then an invoice created and paid
/// but not recorded. The next pass finishes the work and nothing exists twice at Stripe.
@Suite("Stripe push: an interrupted pass is finished without creating anything twice (localstripe)")
struct StripeSyncRecoveryTests {
    static let start = Date(timeIntervalSince1970: 1_794_787_200)  // 2026-11-16 00:00 UTC
    static let december = Date(timeIntervalSince1970: 1_796_083_200)

    @Test("an unrecorded item is found by its metadata, an unrecorded invoice by its description; totals equal")
    func recovery() async throws {
        try await LocalStripeServer.with { stripe in
            try await stripe.post("/v1/plans", [
                ("id", "chom-basic"), ("amount", "0"), ("currency", "eur"), ("interval", "month"), ("product[name]", "Basic"),
            ])
            try await ThrowawayPostgres.withStore { store in
                var terms = CoordinatorConfiguration.Billing.PlanTerms(
                    code: "basic", name: "Basic", currency: "EUR", monthlyPriceMinor: 3_000)
                terms.stripePriceId = "chom-basic"
                var billing = CoordinatorConfiguration.Billing()
                billing.defaultPlan = terms
                let quotas = BillingQuotas(store: store, configuration: billing)
                try await store.billing.ensurePlan(try terms.record(now: Self.start))
                let organization = try await store.write(now: Self.start) { transaction in
                    let organization = try await store.organizations.create(
                        id: OrganizationID(), name: "Recovery", now: Self.start, in: transaction)
                    _ = try await quotas.subscription(organization.id, now: Self.start, in: transaction)
                    try await transaction.record(AuditEntry(time: Self.start, actor: "test", action: "org", target: "o"))
                    return organization.id
                }
                let box = SecretBox(keyRing: try KeyRing(keyFileContents: try KeyRing.generateEntry(keyID: "k1"), active: "k1"))
                let processor = StripeProcessor(api: StripeAPI(base: stripe.base, secretKey: stripe.secretKey))
                let sync = StripeSync(
                    store: store, processor: processor,
                    dunning: BillingDunning(
                        store: store, quotas: quotas,
                        tasks: SiteTaskBuilder(secretBox: box, backups: .init(), maxAttempts: 3), connections: nil,
                        grace: 86_400, logger: Logger(label: "test")),
                    logger: Logger(label: "chom.test.stripe-sync"))

                // Linked once, however many passes run.
                #expect(try await sync.tick(now: Self.start) == (1, 0))
                #expect(try await sync.tick(now: Self.start) == (0, 0))
                let subscription = try #require(try await store.billing.subscription(organization))
                let customer = try #require(subscription.stripeCustomerID)
                try await stripe.setCard(customer: customer, number: "4242424242424242")

                // The period closes: a base-fee line of 1,500 (360 of 720 hours).
                let close = BillingClose(store: store, quotas: quotas, issuer: "Recovery", logger: Logger(label: "test"))
                let invoice = try #require(try await close.tick(now: Self.december + 5).first)
                #expect(invoice.totalMinor == 1_500 && invoice.lines.count == 1)

                // A pass that created the item and died before recording it.
                let subscriptionID = try #require(subscription.stripeSubscriptionID)
                _ = try await processor.createItem(
                    customer: customer, subscription: subscriptionID, amountMinor: invoice.lines[0].amount.minor,
                    currency: "EUR",
                    description: invoice.lines[0].description, invoice: invoice.id, position: 0, key: "k")
                #expect(try await sync.tick(now: Self.december + 10) == (0, 1))
                let stripeInvoice = try #require(try await store.invoices.get(invoice.id, organization: organization)?
                    .stripeInvoiceID)
                let remote = try await stripe.get("/v1/invoices/\(stripeInvoice)")
                #expect((remote["total"] as? NSNumber)?.int64Value == 1_500, "one item, not two")
                #expect(remote["status"] as? String == "paid")
                #expect(try await store.stripe.items(of: invoice.id).count == 1)
                // Paid at once: CHOM's invoice is paid without waiting for a webhook.
                #expect(try await store.invoices.get(invoice.id, organization: organization)?.status == .paid)

                // A pass that created and paid the invoice and died before recording any of it.
                try await store.client.query("""
                    UPDATE invoices SET stripe_invoice_id = NULL, stripe_collected_at = NULL, status = 'open', paid_at = NULL
                    WHERE id = \(invoice.id)
                    """)
                #expect(try await sync.tick(now: Self.december + 20) == (0, 1))
                #expect(try await store.invoices.get(invoice.id, organization: organization)?.stripeInvoiceID == stripeInvoice)
                #expect(try await store.invoices.get(invoice.id, organization: organization)?.status == .paid)
                let all = try await stripe.get("/v1/invoices?customer=\(customer)&limit=100")["data"] as? [[String: Any]] ?? []
                let ours = all.filter { ($0["description"] as? String)?.contains(invoice.id.uuidString.lowercased()) == true }
                #expect(ours.count == 1, "the invoice was found, not made again")
                #expect(try await sync.tick(now: Self.december + 30) == (0, 0), "nothing is left to send")

                // Another invoice's item left pending at Stripe holds the next invoice back (it would be
                // swept in); the failure is recorded and the invoice waits, instead of being retried
                // first on every pass.
                _ = try await processor.createItem(
                    customer: customer, subscription: subscriptionID, amountMinor: 100, currency: "EUR",
                    description: "stray", invoice: UUID(), position: 0, key: "stray")
                let january = Self.december + 31 * 86_400
                let next = try #require(try await close.tick(now: january + 5).first)
                #expect(try await sync.tick(now: january + 10) == (0, 0))
                let text = { (column: String) async throws -> String? in
                    for try await value in try await store.client.query(
                        PostgresQuery(unsafeSQL: "SELECT \(column)::text FROM invoices WHERE id = '\(next.id)'")
                    ).decode(String?.self) { return value }
                    return nil
                }
                #expect(try await text("stripe_error")?.contains("still pending at Stripe") == true)
                let retryAt = try await text("extract(epoch FROM stripe_retry_at)::bigint")
                #expect(retryAt == String(Int64((january + 10 + 600).timeIntervalSince1970)))
                #expect(try await sync.tick(now: january + 20) == (0, 0))
                #expect(try await text("extract(epoch FROM stripe_retry_at)::bigint") == retryAt, "not tried before its time")
            }
        }
    }
}
