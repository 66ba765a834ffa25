import CHOMAPI
@testable import CHOMCoordinator
import CHOMCore
import CHOMTesting
import Foundation
import Testing

/// The Stripe webhook endpoint with recorded Stripe event payloads (the shapes Stripe sends;
/// localstripe does not send `invoice.paid`): signatures, replays, order, and what each event does.
@Suite("Stripe webhook: signed, stored by id, applied once in any order")
struct StripeWebhookTests {
    static let secret = "whsec_\(UUID().uuidString)"

    /// A recorded Stripe event of `type` about invoice `invoice` (trimmed to the fields CHOM reads
    /// and a few it ignores).
    static func event(_ id: String, _ type: String, invoice: String, created: Int64) -> Data {
        Data("""
            {"id":"\(id)","object":"event","api_version":"2025-03-31.basil","created":\(created),\
            "type":"\(type)","livemode":false,"pending_webhooks":1,\
            "data":{"object":{"id":"\(invoice)","object":"invoice","customer":"cus_Test","status":"open","amount_due":2900}}}
            """.utf8)
    }

    @Test("bad signature, stale timestamp and no secret are refused; a replayed id is acknowledged once; a late failure after paid changes nothing")
    func deliveries() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("chom-whsec-\(UUID().uuidString)")
        try Data(Self.secret.utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        try await TestCoordinator.with(configure: { $0.billing.stripeWebhookSecretFile = file.path }) { coordinator in
            let organization = try await coordinator.client.createOrganization(name: "Stripe customer")
            let invoice = UUID().uuidString.lowercased()
            try await TestDatabase.execute("""
                INSERT INTO invoices (id, organization_id, issuer, number, status, period_start, period_end, plan_code,
                    currency, total_minor, finalized_at, stripe_invoice_id)
                VALUES ('\(invoice)', '\(organization.id)', 'CHOM', 1, 'open', now() - interval '31 days',
                    now() - interval '1 day', 'unmetered', 'EUR', 2900, now(), 'in_Test1')
                """, dataDirectory: coordinator.dataDirectory)
            let url = coordinator.apiURL.appending(path: "/v1/billing/stripe/webhook")
            let now = Int64(Date().timeIntervalSince1970)
            func deliver(_ payload: Data, timestamp: Int64 = now, secret: String = StripeWebhookTests.secret) async throws -> TestHTTP.Reply {
                try await TestHTTP.request("POST", url, body: payload, headers: [
                    "Stripe-Signature": WebhookSignature.header(payload: payload, timestamp: timestamp, secret: secret),
                ])
            }
            func status() async throws -> String {
                try await coordinator.client.billing(organizationID: organization.id).subscription.status
            }
            let failed = Self.event("evt_failed", "invoice.payment_failed", invoice: "in_Test1", created: now - 60)
            #expect(try await deliver(failed, secret: "whsec_wrong").status == 400)
            #expect(try await deliver(failed, timestamp: now - 301).status == 400)
            let unsigned = try await TestHTTP.request("POST", url, body: failed)
            #expect(unsigned.status == 400, "\(unsigned.text)")
            #expect(try await status() == "active", "nothing refused was applied")

            let applied = try await deliver(failed)
            let appliedOutcome = try applied.json()["outcome"] as? String
            #expect(applied.status == 200 && appliedOutcome == "applied: payment failed", "\(applied.text)")
            #expect(try await status() == "past_due")
            // Delivered again (Stripe retries): acknowledged, not applied twice.
            let again = try await deliver(failed)
            #expect((try again.json()["outcome"] as? String) == "duplicate: received before", "\(again.text)")

            // Paid (recorded `invoice.paid`, which localstripe does not send), then a failure of the
            // same invoice delivered late: the invoice stays paid and the subscription active.
            let paid = try await deliver(Self.event("evt_paid", "invoice.paid", invoice: "in_Test1", created: now - 30))
            #expect((try paid.json()["outcome"] as? String) == "applied: paid", "\(paid.text)")
            #expect(try await status() == "active")
            let late = try await deliver(Self.event("evt_failed_late", "invoice.payment_failed", invoice: "in_Test1", created: now - 90))
            #expect((try late.json()["outcome"] as? String) == "ignored: the invoice is paid", "\(late.text)")
            #expect(try await status() == "active")
            // Unknown types and unknown invoices are acknowledged and ignored.
            let unknown = try await deliver(Self.event("evt_other", "charge.refunded", invoice: "in_Test1", created: now))
            let unknownOutcome = try unknown.json()["outcome"] as? String
            #expect(unknown.status == 200 && unknownOutcome?.hasPrefix("ignored") == true)
            let stranger = try await deliver(Self.event("evt_stranger", "invoice.paid", invoice: "in_Nobody", created: now))
            #expect((try stranger.json()["outcome"] as? String) == "ignored: no invoice with that Stripe id")
            let junk = Data("{\"hello\":1}".utf8)
            #expect(try await deliver(junk).status == 400)
            #expect(try await TestDatabase.count("SELECT count(*) FROM stripe_events", dataDirectory: coordinator.dataDirectory) == 5)
        }
        // Without a secret the endpoint does not exist.
        try await TestCoordinator.with { coordinator in
            let reply = try await TestHTTP.request(
                "POST", coordinator.apiURL.appending(path: "/v1/billing/stripe/webhook"), body: Data("{}".utf8))
            #expect(reply.status == 404, "\(reply.text)")
        }
    }
}
