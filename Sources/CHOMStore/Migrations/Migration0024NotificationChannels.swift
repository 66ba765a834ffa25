/// Notification channels per organization (the observability issue): besides the owners' email,
/// which every event still reaches, an organization's admins add email addresses and webhooks,
/// each for every event or for a chosen list (`NotificationEvent`). A webhook's URL and signing
/// secret are sealed together at rest (`SecretBox`, context `webhook:<channel id>`; a URL's path
/// is often a credential); `target` holds only its scheme, host and port. The secret is shown
/// once, at creation.
///
/// A removed channel is kept (`deleted_at`) so the outbox's rows still name it; its pending
/// messages are given up at their next attempt.
enum Migration0024NotificationChannels {
    static let migration = Migration(version: 24, name: "notification_channels", sql: """
        CREATE TABLE notification_channels (
            id uuid PRIMARY KEY,
            organization_id uuid NOT NULL REFERENCES organizations(id),
            kind text NOT NULL CHECK (kind IN ('email', 'webhook')),
            -- The address (email), or the URL's scheme, host and port (webhook).
            target text NOT NULL CHECK (length(target) BETWEEN 3 AND 2048),
            secret_sealed text,
            -- Event names; empty: every event.
            events text[] NOT NULL DEFAULT '{}',
            description text NOT NULL DEFAULT '' CHECK (length(description) <= 200),
            -- Who added it (nil: an operator's tool); listed, so a channel left by someone who has
            -- since gone is visible.
            created_by uuid REFERENCES users(id),
            created_at timestamptz NOT NULL,
            deleted_at timestamptz,
            CHECK ((kind = 'webhook') = (secret_sealed IS NOT NULL))
        );
        CREATE INDEX notification_channels_organization ON notification_channels (organization_id)
            WHERE deleted_at IS NULL;

        ALTER TABLE notification_outbox DROP CONSTRAINT notification_outbox_channel_check;
        ALTER TABLE notification_outbox ADD CONSTRAINT notification_outbox_channel_check
            CHECK (channel IN ('email', 'webhook'));
        ALTER TABLE notification_outbox DROP CONSTRAINT notification_outbox_recipient_check;
        ALTER TABLE notification_outbox ADD CONSTRAINT notification_outbox_recipient_check
            CHECK (length(recipient) BETWEEN 3 AND 2048);
        -- The channel a message goes through (NULL: an owner's email).
        ALTER TABLE notification_outbox ADD COLUMN channel_id uuid REFERENCES notification_channels(id);
        CREATE INDEX notification_outbox_channel ON notification_outbox (channel_id) WHERE channel_id IS NOT NULL;
        """)
}
