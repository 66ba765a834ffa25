import CHOMAPI
import CHOMAudit
import CHOMCore
import CHOMStore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// `POST /v1/billing/stripe/webhook`: Stripe's events, signed with the endpoint's secret
/// (`WebhookSignature`), stored by id and applied once, in any order:
/// - `invoice.payment_failed`: the subscription of the invoice's organization is past due (unless
///   the invoice was paid meanwhile: a late failure of a paid invoice changes nothing);
/// - `invoice.paid` and `invoice.payment_succeeded`: the invoice is paid and the subscription active;
/// - `customer.subscription.*`: the subscription is read back from Stripe (the event's copy is not
///   trusted); canceled there, the organization's subscription is canceled at its period's end;
///   any other status changes nothing (CHOM's own invoices drive past due and suspension);
/// - any other type: acknowledged and ignored.
/// Invoices are matched by the Stripe id the ledger stored when it pushed them.
extension AdminAPI {
    static let stripeWebhookMaxBytes = 256 * 1024

    func addStripeWebhookRoutes(_ routes: RouteTable) {
        routes.on(.post, "/v1/billing/stripe/webhook", .stripeWebhook) { request, _, caller in
            // The stored settings are read (and opened) only when no configured secret overrides them.
            let configured = try configuration.billing.stripeWebhookSecret()
            var stored = configured == nil ? try await StripeSettings.load(store: store, box: identity.secretBox) : nil
            guard let secret = configured ?? stored?.webhookSecret else {
                throw CHOMError(.notFound, "Stripe webhooks are not configured (chom-coordinator stripe-configure)")
            }
            var request = request
            let buffer: ByteBuffer
            do {
                buffer = try await request.collectBody(upTo: Self.stripeWebhookMaxBytes)
            } catch let error as HTTPError where error.status == .contentTooLarge {
                throw CHOMError(.payloadTooLarge, "the event is larger than \(Self.stripeWebhookMaxBytes) bytes")
            }
            let payload = Data(buffer.readableBytesView)
            do {
                try WebhookSignature.verify(
                    payload: payload, header: request.headers[HTTPField.Name("Stripe-Signature")!], secret: secret,
                    now: caller.now)
            } catch {
                throw CHOMError(.invalidInput, "\(error)")
            }
            let event = try StripeEvent(payload)
            // A subscription event is not trusted as sent: its subscription is read back from Stripe.
            var subscriptionStatus: String?
            if event.type.hasPrefix("customer.subscription."), stored == nil {
                stored = try await StripeSettings.load(store: store, box: identity.secretBox)
            }
            if event.type.hasPrefix("customer.subscription."), let id = event.objectID, let key = stored?.secretKey,
                let base = stored?.apiBase
            {
                subscriptionStatus = try await StripeProcessor(api: StripeAPI(base: base, secretKey: key))
                    .subscriptionStatus(id)
            }
            let outcome = try await applyStripeEvent(event, subscriptionStatus: subscriptionStatus, now: caller.now)
            return try StrictJSON.response(StripeWebhookResponse(received: true, outcome: outcome))
        }
    }

    /// Stores the event and applies it once; returns what it did.
    /// `subscriptionStatus`: the status of a subscription event's subscription as read back from
    /// Stripe (nil: not read, Stripe not configured).
    func applyStripeEvent(_ event: StripeEvent, subscriptionStatus: String? = nil, now: Date) async throws -> String {
        struct Duplicate: Error {}
        let dunning = self.dunning
        do {
            return try await store.write(now: now) { transaction in
                var outcome = "ignored: \(event.type) is not an event CHOM acts on"
                var organization: OrganizationID?
                var invoiceID: UUID?
                switch event.type {
                case "invoice.payment_failed", "invoice.paid", "invoice.payment_succeeded":
                    if let stripeInvoice = event.objectID,
                        let invoice = try await store.invoices.invoice(stripeID: stripeInvoice, in: transaction)
                    {
                        organization = invoice.organizationID
                        invoiceID = invoice.id
                        let audit: (String, [String: String]) -> AuditEntry = { action, details in
                            AuditEntry(
                                time: now, actor: "system:stripe", organizationID: invoice.organizationID.description,
                                action: action, target: "organization:\(invoice.organizationID)", details: details)
                        }
                        if event.type == "invoice.payment_failed" {
                            if invoice.status == .open {
                                try await dunning.apply(
                                    .paymentFailed(at: event.created), organization: invoice.organizationID, now: now,
                                    audit: audit, in: transaction)
                                outcome = "applied: payment failed"
                            } else {
                                outcome = "ignored: the invoice is \(invoice.status.rawValue)"
                            }
                        } else {
                            if try await store.invoices.markPaid(invoice.id, at: event.created, in: transaction) {
                                try await dunning.apply(
                                    .paymentSucceeded, organization: invoice.organizationID, now: now, audit: audit,
                                    in: transaction)
                                outcome = "applied: paid"
                            } else {
                                outcome = "ignored: the invoice is \(invoice.status.rawValue)"
                            }
                        }
                    } else {
                        outcome = "ignored: no invoice with that Stripe id"
                    }
                case let type where type.hasPrefix("customer.subscription."):
                    guard let status = subscriptionStatus else {
                        outcome = "ignored: the subscription cannot be read back (Stripe's secret key is not configured)"
                        break
                    }
                    guard let id = event.objectID, let linked = try await store.stripe.organization(stripeSubscription: id)
                    else {
                        outcome = "ignored: no organization is linked to that subscription"
                        break
                    }
                    organization = linked
                    if status == "canceled" {
                        // Canceled at Stripe (the customer's portal): CHOM cancels at the period's end, so
                        // the period is still closed and invoiced.
                        // A refusal (already canceled) is decided before anything is written.
                        let actions = try? await dunning.apply(
                            .cancel(atPeriodEnd: true), organization: linked, now: now,
                            audit: { action, details in
                                AuditEntry(
                                    time: now, actor: "system:stripe", organizationID: linked.description, action: action,
                                    target: "organization:\(linked)", details: details)
                            }, in: transaction)
                        outcome = (actions ?? []).isEmpty ? "ignored: already canceled or canceling" : "applied: canceled at the period's end"
                    } else {
                        outcome = "ignored: the subscription is \(status.prefix(40)) at Stripe; CHOM's invoices drive its status"
                    }
                default:
                    break
                }
                guard try await store.invoices.receiveStripeEvent(
                    id: event.id, type: event.type, created: event.created, outcome: outcome, now: now, in: transaction)
                else { throw Duplicate() }
                var details = ["event": event.id, "type": event.type, "outcome": outcome]
                if let invoiceID { details["invoice"] = invoiceID.uuidString.lowercased() }
                try await transaction.record(AuditEntry(
                    time: now, actor: "system:stripe", organizationID: organization?.description,
                    action: "billing.stripe.event", target: "stripe_event:\(event.id)", details: details))
                return outcome
            }
        } catch is Duplicate {
            return "duplicate: received before"
        }
    }
}

/// What CHOM reads of a Stripe event: its id, type, creation time and the id of its object.
struct StripeEvent: Sendable, Equatable {
    var id: String
    var type: String
    var created: Date
    var objectID: String?

    init(_ payload: Data) throws {
        guard let object = try? JSONSerialization.jsonObject(with: payload) as? [String: Any],
            let id = object["id"] as? String, (1...255).contains(id.utf8.count),
            let type = object["type"] as? String, (1...255).contains(type.utf8.count),
            let created = (object["created"] as? NSNumber)?.int64Value
        else { throw CHOMError(.invalidInput, "the body is not a Stripe event (id, type, created)") }
        self.id = id
        self.type = type
        self.created = Date(timeIntervalSince1970: TimeInterval(created))
        let data = object["data"] as? [String: Any]
        objectID = (data?["object"] as? [String: Any])?["id"] as? String
    }
}
