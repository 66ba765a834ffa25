import CHOMCore
import Foundation

/// A payment processor as the billing ledger uses it (the issue "Billing": an adapter behind a
/// protocol; CHOM bills without one). Every create carries an idempotency key derived from CHOM's
/// own ids; the ledger stores each returned id and never asks twice.
protocol PaymentProcessor: Sendable {
    func createCustomer(name: String, email: String?, organization: OrganizationID, key: String) async throws -> String
    func createSubscription(customer: String, price: String, organization: OrganizationID, key: String) async throws
        -> String
    /// The amount the subscription's price adds to each of its invoices (minor units).
    func subscriptionAmount(_ subscription: String) async throws -> Int64
    /// The customer's pending invoice items that CHOM created (not yet on an invoice).
    func pendingItems(customer: String) async throws -> [PendingItem]
    /// An invoice item for `subscription`'s next invoice, marked with CHOM's invoice and line.
    func createItem(
        customer: String, subscription: String, amountMinor: Int64, currency: String, description: String, invoice: UUID,
        position: Int, key: String
    ) async throws -> String
    /// The processor's invoice made earlier for CHOM's `invoice`, if any.
    func findInvoice(customer: String, invoice: UUID) async throws -> String?
    func createInvoice(customer: String, subscription: String, invoice: UUID, number: String, key: String) async throws
        -> String
    /// Asks for payment; returns "paid", "declined" (the charge failed: the invoice stays open), or
    /// the processor's status of the invoice otherwise ("open" while a payment is pending).
    func collect(_ invoice: String, key: String) async throws -> String
    /// The subscription as the processor holds it now (status, e.g. "active", "canceled").
    func subscriptionStatus(_ subscription: String) async throws -> String
}

/// A pending invoice item CHOM created: its CHOM invoice and line, and its id at the processor.
struct PendingItem: Sendable, Equatable {
    var invoice: String
    var position: Int
    var id: String
}
