package import CHOMCore
package import Foundation
import Logging
import PostgresNIO

/// What CHOM created at Stripe and how to reach it (Migration0022StripeLedger): every Stripe id is
/// stored as soon as Stripe answers, so nothing is created twice.
package struct StripeLedgerRepository: Sendable {
    let client: PostgresClient
    let logger: Logger

    /// `secret_key`, `webhook_secret` (sealed) and `api_base`, as stored.
    package func settings() async throws -> [String: String] {
        var result: [String: String] = [:]
        for try await (name, value) in try await client.query("SELECT name, value FROM stripe_settings", logger: logger)
            .decode((String, String).self)
        {
            result[name] = value
        }
        return result
    }

    package func setSetting(_ name: String, value: String, now: Date, in transaction: AuditedTransaction) async throws {
        try await transaction.connection.query("""
            INSERT INTO stripe_settings (name, value, updated_at) VALUES (\(name), \(value), \(now))
            ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value, updated_at = EXCLUDED.updated_at
            """, logger: logger)
    }

    /// Replaces a sealed setting if it is still `old` (rotate-secrets-key).
    package func resealSetting(_ name: String, from old: String, to new: String, in transaction: AuditedTransaction)
        async throws -> Bool
    {
        let rows = try await transaction.connection.query(
            "UPDATE stripe_settings SET value = \(new) WHERE name = \(name) AND value = \(old) RETURNING name",
            logger: logger)
        for try await _ in rows { return true }
        return false
    }

    /// Organizations whose plan has a Stripe price and whose subscription is not yet linked to a
    /// Stripe customer and subscription: (organization, name, first owner's email, price).
    package func unlinked(now: Date, limit: Int = 100) async throws -> [(OrganizationID, String, String?, String)] {
        let rows = try await client.query("""
            SELECT s.organization_id, o.name,
                (SELECT u.email FROM memberships m JOIN users u ON u.id = m.user_id
                 WHERE m.organization_id = s.organization_id AND m.role = 'owner' ORDER BY m.created_at, u.email LIMIT 1),
                p.stripe_price_id
            FROM billing_subscriptions s JOIN organizations o ON o.id = s.organization_id
            JOIN billing_plans p ON p.code = s.plan_code
            WHERE p.stripe_price_id IS NOT NULL AND s.status <> 'canceled'
              AND (s.stripe_customer_id IS NULL OR s.stripe_subscription_id IS NULL)
              AND (s.stripe_retry_at IS NULL OR s.stripe_retry_at <= \(now))
            ORDER BY s.stripe_retry_at NULLS FIRST, s.organization_id LIMIT \(limit)
            """, logger: logger)
        var result: [(OrganizationID, String, String?, String)] = []
        for try await (id, name, email, price) in rows.decode((UUID, String, String?, String).self) {
            result.append((OrganizationID(id), name, email, price))
        }
        return result
    }

    /// Stores the Stripe customer (and subscription) of an organization, keeping any already set.
    package func link(_ organization: OrganizationID, customer: String, subscription: String?, now: Date) async throws {
        try await client.query("""
            UPDATE billing_subscriptions
            SET stripe_customer_id = COALESCE(stripe_customer_id, \(customer)),
                stripe_subscription_id = COALESCE(stripe_subscription_id, \(subscription)), updated_at = \(now)
            WHERE organization_id = \(organization.uuid)
            """, logger: logger)
    }

    /// A failed link of `organization`: not tried again before `retryAt`; `error` kept for operators.
    package func linkFailed(_ organization: OrganizationID, error: String, retryAt: Date) async throws {
        try await client.query("""
            UPDATE billing_subscriptions SET stripe_retry_at = \(retryAt), stripe_error = \(String(error.prefix(500)))
            WHERE organization_id = \(organization.uuid)
            """, logger: logger)
    }

    /// A failed push of `invoice`: not tried again before `retryAt`.
    package func pushFailed(_ invoice: UUID, error: String, retryAt: Date) async throws {
        try await client.query("""
            UPDATE invoices SET stripe_retry_at = \(retryAt), stripe_error = \(String(error.prefix(500))) WHERE id = \(invoice)
            """, logger: logger)
    }

    /// The organization whose subscription is linked to Stripe's `subscription`.
    package func organization(stripeSubscription subscription: String) async throws -> OrganizationID? {
        let rows = try await client.query(
            "SELECT organization_id FROM billing_subscriptions WHERE stripe_subscription_id = \(subscription)",
            logger: logger)
        for try await id in rows.decode(UUID.self) { return OrganizationID(id) }
        return nil
    }

    /// Finalized invoices not yet sent to Stripe for collection, of linked organizations:
    /// (invoice, organization, customer, subscription).
    package func uncollected(now: Date, limit: Int = 100) async throws -> [(UUID, OrganizationID, String, String)] {
        let rows = try await client.query("""
            SELECT i.id, i.organization_id, s.stripe_customer_id, s.stripe_subscription_id
            FROM invoices i JOIN billing_subscriptions s ON s.organization_id = i.organization_id
            WHERE i.stripe_collected_at IS NULL AND i.status = 'open'
              AND s.stripe_customer_id IS NOT NULL AND s.stripe_subscription_id IS NOT NULL
              AND (i.stripe_retry_at IS NULL OR i.stripe_retry_at <= \(now))
            ORDER BY i.stripe_retry_at NULLS FIRST, i.finalized_at, i.id LIMIT \(limit)
            """, logger: logger)
        var result: [(UUID, OrganizationID, String, String)] = []
        for try await (id, organization, customer, subscription) in rows.decode((UUID, UUID, String, String).self) {
            result.append((id, OrganizationID(organization), customer, subscription))
        }
        return result
    }

    /// The Stripe invoice items already created for `invoice`, by line position.
    package func items(of invoice: UUID) async throws -> [Int: String] {
        var result: [Int: String] = [:]
        for try await (position, id) in try await client.query(
            "SELECT position, stripe_item_id FROM stripe_invoice_items WHERE invoice_id = \(invoice)", logger: logger
        ).decode((Int, String).self) {
            result[position] = id
        }
        return result
    }

    package func recordItem(invoice: UUID, position: Int, stripeID: String, now: Date) async throws {
        try await client.query("""
            INSERT INTO stripe_invoice_items (invoice_id, position, stripe_item_id, created_at)
            VALUES (\(invoice), \(position), \(stripeID), \(now)) ON CONFLICT DO NOTHING
            """, logger: logger)
    }

    package func setStripeInvoice(_ invoice: UUID, stripeID: String) async throws {
        try await client.query(
            "UPDATE invoices SET stripe_invoice_id = \(stripeID) WHERE id = \(invoice) AND stripe_invoice_id IS NULL",
            logger: logger)
    }

    package func markCollected(_ invoice: UUID, at now: Date, in transaction: AuditedTransaction) async throws {
        try await transaction.connection.query(
            "UPDATE invoices SET stripe_collected_at = \(now) WHERE id = \(invoice) AND stripe_collected_at IS NULL",
            logger: logger)
    }
}
