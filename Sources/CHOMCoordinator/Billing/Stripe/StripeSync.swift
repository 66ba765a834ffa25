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
///    invoice items of the subscription (amounts in minor units), then Stripe's invoice is created
///    on the subscription and paid (charged to the customer's default payment method), so Stripe's
///    invoice totals exactly CHOM's. The plan's Stripe price must be zero-amount (CHOM's invoice is
///    the charge): one that charges by itself is refused, not netted out. What the payment attempt
///    answers is applied at once (paid: the invoice is paid and the subscription active; declined:
///    past due); a payment or failure that comes later arrives by webhook, applied once.
///
/// Idempotency is the ledger's: every created id is stored before the next step, a step finds what
/// an interrupted one made (by the metadata CHOM put on it) before creating, and each create sends
/// an `Idempotency-Key` derived from CHOM's ids for real Stripe.
struct StripeSync: Sendable {
    let store: Store
    let processor: any PaymentProcessor
    let dunning: BillingDunning
    let logger: Logger

    /// How long a failed link or push waits before it is tried again; the others go on meanwhile.
    var retryDelay: TimeInterval = 600

    /// One pass; returns (organizations linked, invoices sent for collection). One organization's
    /// or invoice's failure is logged and recorded (`stripe_error`), and that row waits
    /// `retryDelay` (`stripe_retry_at`), so a row that keeps failing never holds up the rest.
    @discardableResult
    func tick(now: Date) async throws -> (linked: Int, collected: Int) {
        var linked = 0
        for (organization, name, email, price) in try await store.stripe.unlinked(now: now) {
            do {
                try await link(organization, name: name, email: email, price: price, now: now)
                linked += 1
            } catch {
                logger.warning("a Stripe customer was not linked; retried later", metadata: [
                    "chom.organization": "\(organization)", LogKey.error: "\(error)",
                ])
                try await store.stripe.linkFailed(organization, error: "\(error)", retryAt: now + retryDelay)
            }
        }
        var collected = 0
        for (invoice, organization, customer, subscription) in try await store.stripe.uncollected(now: now) {
            do {
                try await push(invoice, organization: organization, customer: customer, subscription: subscription, now: now)
                collected += 1
            } catch {
                logger.warning("an invoice was not sent to Stripe; retried later", metadata: [
                    "chom.invoice": "\(invoice)", LogKey.error: "\(error)",
                ])
                try await store.stripe.pushFailed(invoice, error: "\(error)", retryAt: now + retryDelay)
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
        let mark = id.uuidString.lowercased()
        if invoice.stripeInvoiceID == nil {
            // A price that charges by itself would bill beside CHOM's invoice: refused, not netted out.
            let included = try await processor.subscriptionAmount(subscription)
            guard included == 0 else {
                throw CHOMError(
                    .configuration,
                    "the Stripe subscription \(subscription) charges \(included) by its price; a plan's Stripe price must be "
                        + "zero-amount (CHOM's invoice is the charge)")
            }
            var made = try await store.stripe.items(of: id)
            let pending = try await processor.pendingItems(customer: customer)
            // Another invoice's items still pending would be swept into this one: that one goes first.
            if let other = pending.first(where: { $0.invoice != mark }) {
                throw CHOMError(.conflict, "items of CHOM invoice \(other.invoice) are still pending at Stripe; it is sent first")
            }
            // Items an interrupted pass created but did not record.
            for item in pending where made[item.position] == nil {
                try await store.stripe.recordItem(invoice: id, position: item.position, stripeID: item.id, now: now)
                made[item.position] = item.id
            }
            for (position, line) in invoice.lines.enumerated() where made[position] == nil && line.amount.minor != 0 {
                let item = try await processor.createItem(
                    customer: customer, subscription: subscription, amountMinor: line.amount.minor, currency: invoice.currency,
                    description: line.description, invoice: id, position: position, key: "chom-item-\(mark)-\(position)")
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
                key: "chom-invoice-\(mark)")
        }
        guard let stripeInvoice else { return }
        try await store.stripe.setStripeInvoice(id, stripeID: stripeInvoice)
        let status = try await processor.collect(stripeInvoice, key: "chom-collect-\(mark)")
        // What the attempt answered, applied with the mark of collection in one transaction: paid at
        // once (the webhook may never come, or came before the Stripe id was stored), or declined.
        try await store.write(now: now) { transaction in
            guard let current = try await store.invoices.invoice(stripeID: stripeInvoice, in: transaction) else { return }
            try await store.stripe.markCollected(id, at: now, in: transaction)
            var event: SubscriptionEvent?
            switch status {
            case "paid":
                if try await store.invoices.markPaid(id, at: now, in: transaction) { event = .paymentSucceeded }
            case "declined" where current.status == .open:
                event = .paymentFailed(at: now)
            default:
                break  // Pending, or paid meanwhile: the webhook says the rest.
            }
            try await transaction.record(audit(
                now, organization, "billing.stripe.collect", id: id, stripeInvoice: stripeInvoice, status: status))
            if let event {
                try await dunning.apply(event, organization: organization, now: now, audit: { action, details in
                    audit(now, organization, action, details: details)
                }, in: transaction)
            }
        }
        logger.info("an invoice was sent to Stripe for payment", metadata: [
            "chom.invoice": "\(id)", "chom.stripe_invoice": "\(stripeInvoice)", "chom.stripe_status": "\(status)",
        ])
    }

    private func audit(
        _ now: Date, _ organization: OrganizationID, _ action: String, id: UUID, stripeInvoice: String, status: String
    ) -> AuditEntry {
        audit(now, organization, action, details: [
            "invoice": id.uuidString.lowercased(), "stripe_invoice": stripeInvoice, "status": String(status.prefix(40)),
        ])
    }

    private func audit(_ now: Date, _ organization: OrganizationID, _ action: String, details: [String: String]) -> AuditEntry {
        AuditEntry(
            time: now, actor: "system:stripe", organizationID: organization.description, action: action,
            target: "organization:\(organization)", details: details)
    }
}
