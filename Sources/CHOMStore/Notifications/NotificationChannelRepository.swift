package import CHOMCore
package import Foundation
import Logging
import PostgresNIO

/// An organization's notification channel (Migration0024NotificationChannels).
package struct NotificationChannelRecord: Sendable, Equatable {
    package enum Kind: String, Sendable, CaseIterable { case email, webhook }

    package var id: UUID
    package var organizationID: OrganizationID
    package var kind: Kind
    /// The address (email), or the URL's scheme, host and port (webhook).
    package var target: String
    /// The webhook's URL and signing secret, sealed (`SecretBox`); nil for email.
    package var secretSealed: String?
    /// Subscribed event names; empty: every event.
    package var events: [String]
    package var description: String
    package var createdBy: UserID?
    package var createdAt: Date

    package init(
        id: UUID, organizationID: OrganizationID, kind: Kind, target: String, secretSealed: String?, events: [String],
        description: String, createdBy: UserID?, createdAt: Date
    ) {
        self.id = id
        self.organizationID = organizationID
        self.kind = kind
        self.target = target
        self.secretSealed = secretSealed
        self.events = events
        self.description = description
        self.createdBy = createdBy
        self.createdAt = createdAt
    }
}

/// The organizations' notification channels. Removal is soft (the outbox keeps naming the channel);
/// a removed channel is listed nowhere and its secret is no longer handed out.
package struct NotificationChannelRepository: Sendable {
    let client: PostgresClient
    let logger: Logger

    /// At most this many live channels per organization.
    package static let limit = 20

    package func create(_ channel: NotificationChannelRecord, in transaction: AuditedTransaction) async throws {
        // One organization's creations are serialized so the limit holds under concurrency.
        try await transaction.connection.query(
            "SELECT id FROM organizations WHERE id = \(channel.organizationID.uuid) FOR UPDATE", logger: logger)
        let counted = try await transaction.connection.query("""
            SELECT count(*)::int FROM notification_channels
            WHERE organization_id = \(channel.organizationID.uuid) AND deleted_at IS NULL
            """, logger: logger)
        for try await count in counted.decode(Int.self) where count >= Self.limit {
            throw CHOMError(.conflict, "an organization has at most \(Self.limit) notification channels")
        }
        try await transaction.connection.query("""
            INSERT INTO notification_channels
                (id, organization_id, kind, target, secret_sealed, events, description, created_by, created_at)
            VALUES (\(channel.id), \(channel.organizationID.uuid), \(channel.kind.rawValue), \(channel.target),
                \(channel.secretSealed), \(channel.events), \(channel.description), \(channel.createdBy?.uuid),
                \(channel.createdAt))
            """, logger: logger)
    }

    /// The organization's live channels, oldest first.
    package func list(organization: OrganizationID) async throws -> [NotificationChannelRecord] {
        let rows = try await client.query("""
            SELECT id, organization_id, kind, target, secret_sealed, events, description, created_by, created_at
            FROM notification_channels WHERE organization_id = \(organization.uuid) AND deleted_at IS NULL
            ORDER BY created_at, id
            """, logger: logger)
        return try await Self.decode(rows)
    }

    /// A live channel of the organization (nil if missing, removed or another organization's).
    package func get(_ id: UUID, organization: OrganizationID) async throws -> NotificationChannelRecord? {
        let rows = try await client.query("""
            SELECT id, organization_id, kind, target, secret_sealed, events, description, created_by, created_at
            FROM notification_channels
            WHERE id = \(id) AND organization_id = \(organization.uuid) AND deleted_at IS NULL
            """, logger: logger)
        return try await Self.decode(rows).first
    }

    /// A live channel, whoever's (for delivery).
    package func live(_ id: UUID) async throws -> NotificationChannelRecord? {
        let rows = try await client.query("""
            SELECT id, organization_id, kind, target, secret_sealed, events, description, created_by, created_at
            FROM notification_channels WHERE id = \(id) AND deleted_at IS NULL
            """, logger: logger)
        return try await Self.decode(rows).first
    }

    /// Removes a live channel of the organization; false if there is none.
    package func remove(_ id: UUID, organization: OrganizationID, now: Date, in transaction: AuditedTransaction)
        async throws -> Bool
    {
        let rows = try await transaction.connection.query("""
            UPDATE notification_channels SET deleted_at = \(now)
            WHERE id = \(id) AND organization_id = \(organization.uuid) AND deleted_at IS NULL
            RETURNING id
            """, logger: logger)
        for try await _ in rows { return true }
        return false
    }

    private static func decode(_ rows: PostgresRowSequence) async throws -> [NotificationChannelRecord] {
        var result: [NotificationChannelRecord] = []
        for try await (id, organization, kind, target, secret, events, description, creator, created) in rows.decode(
            (UUID, UUID, String, String, String?, [String], String, UUID?, Date).self)
        {
            guard let kind = NotificationChannelRecord.Kind(rawValue: kind) else {
                throw CHOMError(.integrity, "unknown notification channel kind \(kind)")
            }
            result.append(NotificationChannelRecord(
                id: id, organizationID: OrganizationID(organization), kind: kind, target: target, secretSealed: secret,
                events: events, description: description, createdBy: creator.map(UserID.init), createdAt: created))
        }
        return result
    }
}
