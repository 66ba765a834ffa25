/// What CHOM created at Stripe, so it never creates anything twice (the issue "Billing"): the
/// invoice items of each closed invoice's lines, and when the Stripe invoice was sent for
/// collection. The Stripe secret key and webhook secret, sealed with the coordinator's secrets key.
enum Migration0022StripeLedger {
    static let migration = Migration(version: 22, name: "stripe_ledger", sql: """
        CREATE TABLE stripe_invoice_items (
            invoice_id uuid NOT NULL REFERENCES invoices(id),
            position integer NOT NULL CHECK (position >= 0),
            stripe_item_id text NOT NULL UNIQUE,
            created_at timestamptz NOT NULL,
            PRIMARY KEY (invoice_id, position)
        );
        -- Set once the Stripe invoice was sent for payment (paid or finalized); the immutability
        -- trigger of invoices leaves the Stripe columns free.
        ALTER TABLE invoices ADD COLUMN stripe_collected_at timestamptz;
        CREATE INDEX invoices_stripe_pending ON invoices (finalized_at) WHERE stripe_collected_at IS NULL;
        -- After a failed push or link, not before this (so one stuck row never holds up the rest),
        -- with what failed, for the operator.
        ALTER TABLE invoices ADD COLUMN stripe_retry_at timestamptz, ADD COLUMN stripe_error text;
        ALTER TABLE billing_subscriptions ADD COLUMN stripe_retry_at timestamptz, ADD COLUMN stripe_error text;

        CREATE TABLE stripe_settings (
            name text PRIMARY KEY CHECK (name IN ('secret_key', 'webhook_secret', 'api_base')),
            -- secret_key and webhook_secret: sealed (SecretBox); api_base: plain.
            value text NOT NULL,
            updated_at timestamptz NOT NULL
        );
        """)
}
