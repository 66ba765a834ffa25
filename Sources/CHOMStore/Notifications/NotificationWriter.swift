package import CHOMCore
package import Foundation
import Logging
package import PostgresNIO

/// Writes outbox messages on the connection of the change they tell about, so they are sent if
/// and only if it commits: the one place messages are enqueued (`NotificationRepository` and
/// `TaskResultRecorder` go through it).
///
/// Who gets a message: one email per owner of the organization (every event), and one message per
/// live channel of the organization subscribed to the event (an email channel at an owner's
/// address adds nothing). A webhook's body is the JSON it posts:
///
///     {"id": <message id>, "event": "deploy.failed", "created_at": "<ISO 8601>",
///      "organization_id": …, "subject": …, "text": <the email's body>, "data": {…}}
package struct NotificationWriter: Sendable {
    let connection: PostgresConnection
    let logger: Logger

    /// Pending messages one channel may hold; past this its new messages are not written.
    package static let pendingLimit = 1_000

    package init(connection: PostgresConnection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }

    /// `content` for `organization`. Returns how many messages were enqueued.
    @discardableResult
    package func enqueue(_ content: NotificationContent, to organization: OrganizationID, now: Date) async throws -> Int {
        try await insert(content, organization: organization, now: now, channel: nil).count
    }

    /// What `make` writes about `site`, to its organization; nothing if the site is unknown.
    @discardableResult
    package func enqueue(about site: SiteID, now: Date, _ make: (SiteNotice) -> NotificationContent) async throws -> Int {
        let rows = try await connection.query("""
            SELECT s.domain, t.id, t.name, t.organization_id FROM sites s JOIN tenants t ON t.id = s.tenant_id
            WHERE s.id = \(site.uuid)
            """, logger: logger)
        var found: (String, UUID, String, UUID)?
        for try await row in rows.decode((String, UUID, String, UUID).self) { found = row }
        guard let (domain, tenant, tenantName, organization) = found else { return 0 }
        let notice = SiteNotice(
            siteID: site.description, domain: domain, tenantID: TenantID(tenant).description, tenantName: tenantName)
        return try await enqueue(make(notice), to: OrganizationID(organization), now: now)
    }

    /// The messages for `content`: to the owners and subscribed channels, or (`only`) through that
    /// one live channel of the organization. Returns their ids.
    func insert(_ content: NotificationContent, organization: OrganizationID, now: Date, channel only: UUID?)
        async throws -> [UUID]
    {
        let event = content.event.rawValue
        let data = String(decoding: try JSONSerialization.data(withJSONObject: content.data, options: [.sortedKeys]), as: UTF8.self)
        let created = now.formatted(.iso8601)
        let everyone = only == nil
        let rows = try await connection.query("""
            WITH recipients AS (
                SELECT 'email' AS channel, u.email AS recipient, NULL::uuid AS channel_id, 0 AS rank
                FROM memberships m JOIN users u ON u.id = m.user_id
                WHERE \(everyone) AND m.organization_id = \(organization.uuid) AND m.role = 'owner'
                UNION ALL
                SELECT c.kind, c.target, c.id, 1 FROM notification_channels c
                WHERE c.organization_id = \(organization.uuid) AND c.deleted_at IS NULL
                  AND (c.id = \(only) OR (\(everyone) AND (cardinality(c.events) = 0 OR \(event) = ANY(c.events))))
                  -- A channel that has not taken its last \(Self.pendingLimit) messages gets no more
                  -- until it does: a dead receiver cannot fill the outbox.
                  AND (SELECT count(*) FROM notification_outbox o
                       WHERE o.channel_id = c.id AND o.status = 'pending') < \(Self.pendingLimit)
            ), chosen AS (
                SELECT DISTINCT ON (channel, lower(recipient), CASE WHEN channel = 'webhook' THEN channel_id END)
                    gen_random_uuid() AS id, channel, recipient, channel_id, rank
                FROM recipients
                ORDER BY channel, lower(recipient), CASE WHEN channel = 'webhook' THEN channel_id END, rank
            )
            INSERT INTO notification_outbox
                (id, organization_id, channel, recipient, channel_id, event, subject, body, status, attempts,
                 next_attempt_at, created_at)
            SELECT id, \(organization.uuid), channel, recipient, channel_id, \(event), \(content.subject),
                CASE WHEN channel = 'webhook' THEN jsonb_build_object(
                    'id', id, 'event', \(event)::text, 'created_at', \(created)::text,
                    'organization_id', \(organization.uuid), 'subject', \(content.subject)::text,
                    'text', \(content.body)::text, 'data', \(data)::jsonb)::text
                ELSE \(content.body) END,
                'pending', 0, \(now), \(now)
            FROM chosen ORDER BY rank, recipient
            RETURNING id
            """, logger: logger)
        var ids: [UUID] = []
        for try await id in rows.decode(UUID.self) { ids.append(id) }
        return ids
    }
}
