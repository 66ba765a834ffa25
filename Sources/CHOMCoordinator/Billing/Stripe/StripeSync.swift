import CHOMAudit
import CHOMCore
import CHOMStore
import Foundation
import Logging

/// Carries CHOM's ledger to the payment processor (a leader loop, "billing.stripe"); CHOM's own
/// invoice stays the record, and the processor collects it:
/// 1. **Link**: every organization whose plan has a Stripe price gets a Stripe customer and a
///    subscription on that price, each id stored as soon as Stripe answers.
/// 2. **Push**: each finalized, open invoice of a linked organization is sent line by line as
///    invoice items (amounts in minor units), plus one item taking back the subscription price's
///    own amount, so Stripe's invoice totals exactly CHOM's; then Stripe's invoice is created on the
///    subscription and paid (charged to the customer's default payment method). A charge declined
///    at once makes the subscription past due here; a payment, or a failure that comes later,
///    comes back through the webhook (applied once: a past-due subscription stays as it is).
///
/// Idempotency is the ledger's: every created id is stored before the next step, a step finds what
/// an interrupted one made (by the metadata CHOM put on it) before creating, and each create sends
/// an `Idempotency-Key` derived from CHOM's ids for real Stripe.
struct StripeSync: Sendable {
    let store: Store
    let processor: any PaymentProcessor
    let dunning: BillingDunning
    let logger: Logger

    /// One pass; returns (organizations linked, invoices sent for collection). One organization's
    /// failure is logged and left for the next pass; the others go on.
    @discardableResult
    func tick(now: Date) async throws -> (linked: Int, collected: Int) {
        var linked = 0
        for (organization, name, email, price) in try await store.stripe.unlinked() {
            do {
                try await link(organization, name: name, email: email, price: price, now: now)
                linked += 1
            } catch {
                logger.warning("a Stripe customer was not linked; the next pass retries", metadata: [
                    "chom.organization": "\(organization)", LogKey.error: "\(error)",
                ])
            }
        }
        var collected = 0
        for (invoice, organization, customer, subscription) in try await store.stripe.uncollected() {
            do {
                try await push(invoice, organization: organization, customer: customer, subscription: subscription, now: now)
                collected += 1
            } catch {
                logger.warning("an invoice was not sent to Stripe; the next pass retries", metadata: [
                    "chom.invoice": "\(invoice)", LogKey.error: "\(error)",
                ])
            }
        }
        return (linked, collected)
    }

    func link(_ organization: OrganizationID, name: String, email: String?, price: String, now: Date) async throws {
        let current = try await store.billing.subscription(organization)
        let customer: String
        if let existing = current?.stripeCustomerID {
            customer = existing
        } else {
            customer = try await processor.createCustomer(
                name: name, email: email, organization: organization, key: "chom-customer-\(organization)")
            try await store.stripe.link(organization, customer: customer, subscription: nil, now: now)
        }
        guard current?.stripeSubscriptionID == nil else { return }
        let subscription = try await processor.createSubscription(
            customer: customer, price: price, organization: organization, key: "chom-subscription-\(organization)")
        try await store.stripe.link(organization, customer: customer, subscription: subscription, now: now)
    }

    func push(_ id: UUID, organization: OrganizationID, customer: String, subscription: String, now: Date) async throws {
        guard let invoice = try await store.invoices.get(id, organization: organization) else { return }
        var made = try await store.stripe.items(of: id)
        var lines = invoice.lines.map { (amount: $0.amount.minor, description: $0.description) }
        let included = try await processor.subscriptionAmount(subscription)
        if included != 0 {
            lines.append((-included, "Included in the subscription's price (CHOM invoice \(invoice.number) is the total)"))
        }
        if invoice.stripeInvoiceID == nil, made.count < lines.count {
            // Items an interrupted pass created but did not record.
            for (position, item) in try await processor.pendingItems(customer: customer, invoice: id) where made[position] == nil {
                try await store.stripe.recordItem(invoice: id, position: position, stripeID: item, now: now)
                made[position] = item
            }
            let key = id.uuidString.lowercased()
            for (position, line) in lines.enumerated() where made[position] == nil && line.amount != 0 {
                let item = try await processor.createItem(
                    customer: customer, amountMinor: line.amount, currency: invoice.currency, description: line.description,
                    invoice: id, position: position, key: "chom-item-\(key)-\(position)")
                try await store.stripe.recordItem(invoice: id, position: position, stripeID: item, now: now)
                made[position] = item
            }
        }
        var stripeInvoice = invoice.stripeInvoiceID
        if stripeInvoice == nil {
            stripeInvoice = try await processor.findInvoice(customer: customer, invoice: id)
        }
        if stripeInvoice == nil {
            stripeInvoice = try await processor.createInvoice(
                customer: customer, subscription: subscription, invoice: id, number: "\(invoice.issuer)-\(invoice.number)",
                key: "chom-invoice-\(id.uuidString.lowercased())")
        }
        guard let stripeInvoice else { return }
        try await store.stripe.setStripeInvoice(id, stripeID: stripeInvoice)
        let status = try await processor.collect(stripeInvoice, key: "chom-collect-\(id.uuidString.lowercased())")
        try await store.stripe.markCollected(id, at: now)
        if status == "declined" {
            try await store.write(now: now) { transaction in
                try await store.invoices.lock(id, in: transaction)
                guard let current = try await store.invoices.get(id, organization: organization), current.status == .open
                else { return }  // Paid meanwhile: a late decline changes nothing.
                try await dunning.apply(
                    .paymentFailed(at: now), organization: organization, now: now,
                    audit: { action, details in
                        AuditEntry(
                            time: now, actor: "system:stripe", organizationID: organization.description, action: action,
                            target: "organization:\(organization)", details: details.merging(
                                ["invoice": id.uuidString.lowercased(), "stripe_invoice": stripeInvoice]) { a, _ in a })
                    }, in: transaction)
            }
        }
        logger.info("an invoice was sent to Stripe for payment", metadata: [
            "chom.invoice": "\(id)", "chom.stripe_invoice": "\(stripeInvoice)", "chom.stripe_status": "\(status)",
        ])
    }
}
