/// The notifications outbox (the issue "Billing"; the observability issue adds channels and
/// events to it): a message is written in the transaction of the change it tells about, so it is
/// sent if and only if that change committed, and delivery happens later, retried with backoff,
/// every attempt recorded. Delivery never changes the outcome of what triggered it.
enum Migration0021Notifications {
    static let migration = Migration(version: 21, name: "notifications", sql: """
        CREATE TABLE notification_outbox (
            id uuid PRIMARY KEY,
            organization_id uuid REFERENCES organizations(id),
            channel text NOT NULL CHECK (channel IN ('email')),
            recipient text NOT NULL CHECK (length(recipient) BETWEEN 3 AND 320),
            -- What it tells about, e.g. 'billing.payment_failed'.
            event text NOT NULL,
            subject text NOT NULL,
            body text NOT NULL,
            status text NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
            attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
            -- When it is next due; while an attempt runs, the end of that attempt's lease.
            next_attempt_at timestamptz NOT NULL,
            created_at timestamptz NOT NULL,
            delivered_at timestamptz
        );
        CREATE INDEX notification_outbox_due ON notification_outbox (next_attempt_at) WHERE status = 'pending';
        CREATE INDEX notification_outbox_organization ON notification_outbox (organization_id, created_at);

        CREATE TABLE notification_attempts (
            notification_id uuid NOT NULL REFERENCES notification_outbox(id),
            attempt integer NOT NULL CHECK (attempt >= 1),
            started_at timestamptz NOT NULL,
            finished_at timestamptz NOT NULL,
            outcome text NOT NULL CHECK (outcome IN ('delivered', 'failed')),
            -- The server's answer or the error, without secrets.
            detail text NOT NULL,
            PRIMARY KEY (notification_id, attempt)
        );
        """)
}
