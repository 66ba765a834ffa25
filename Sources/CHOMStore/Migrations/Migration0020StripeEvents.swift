/// Stripe's webhook events, stored by id when received and applied once (the issue "Billing"):
/// a redelivered event finds its id and is acknowledged without being applied again.
enum Migration0020StripeEvents {
    static let migration = Migration(version: 20, name: "stripe_events", sql: """
        CREATE TABLE stripe_events (
            id text PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 255),
            type text NOT NULL,
            created_at timestamptz NOT NULL,
            received_at timestamptz NOT NULL,
            -- What applying it did ('applied', or why it was ignored).
            outcome text NOT NULL
        );
        CREATE UNIQUE INDEX invoices_stripe ON invoices (stripe_invoice_id) WHERE stripe_invoice_id IS NOT NULL;
        """)
}
