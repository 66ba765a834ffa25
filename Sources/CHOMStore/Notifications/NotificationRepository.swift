package import CHOMCore
package import Foundation
import Logging
import PostgresNIO

/// One message of the outbox (Migration0021Notifications).
package struct NotificationRecord: Sendable, Equatable {
    package enum Status: String, Sendable { case pending, delivered, failed }

    package var id: UUID
    package var organizationID: OrganizationID?
    package var channel: String
    package var recipient: String
    /// The organization's channel it goes through (nil: an owner's email).
    package var channelID: UUID?
    package var event: String
    package var subject: String
    package var body: String
    package var status: Status
    /// Attempts started so far (the claim counts the one it starts).
    package var attempts: Int
    package var nextAttemptAt: Date
    package var createdAt: Date
    package var deliveredAt: Date?
}

/// One recorded delivery attempt.
package struct NotificationAttempt: Sendable, Equatable {
    package var attempt: Int
    package var startedAt: Date
    package var finishedAt: Date
    package var delivered: Bool
    package var detail: String
}

/// The notifications outbox. Messages are enqueued in the transaction of the change they tell
/// about; delivery claims due messages with a lease (`FOR UPDATE SKIP LOCKED`, so two replicas
/// never take the same one), sends outside any transaction, and records the attempt. A sender that
/// dies mid-attempt leaves the lease to expire: the message is retried (at least once delivery).
package struct NotificationRepository: Sendable {
    let client: PostgresClient
    let logger: Logger

    /// `content` for `organization`, in the transaction of the change it tells about
    /// (`NotificationWriter.enqueue`). Returns how many messages were enqueued.
    @discardableResult
    package func enqueue(
        _ content: NotificationContent, to organization: OrganizationID, now: Date, in transaction: AuditedTransaction
    ) async throws -> Int {
        try await NotificationWriter(connection: transaction.connection, logger: logger)
            .enqueue(content, to: organization, now: now)
    }

    /// `content` through one channel only (its test message), whatever it subscribes to: the
    /// message's id, nil if the organization has no such live channel.
    package func enqueue(
        _ content: NotificationContent, through channel: UUID, of organization: OrganizationID, now: Date,
        in transaction: AuditedTransaction
    ) async throws -> UUID? {
        try await NotificationWriter(connection: transaction.connection, logger: logger)
            .insert(content, organization: organization, now: now, channel: channel).first
    }

    /// Claims up to `limit` due messages: each gets one more attempt and is hidden from other
    /// claims until `now + lease`.
    /// Only messages of `channels` are claimed (email waits while no SMTP server is configured).
    package func claim(now: Date, lease: TimeInterval, limit: Int, channels: [String] = ["email", "webhook"])
        async throws -> [NotificationRecord]
    {
        let rows = try await client.query("""
            UPDATE notification_outbox SET attempts = attempts + 1, next_attempt_at = \(now.addingTimeInterval(lease))
            WHERE id IN (
                SELECT id FROM notification_outbox WHERE status = 'pending' AND next_attempt_at <= \(now)
                  AND channel = ANY(\(channels))
                ORDER BY next_attempt_at LIMIT \(limit) FOR UPDATE SKIP LOCKED)
            RETURNING *
            """, logger: logger)
        var claimed: [NotificationRecord] = []
        for try await row in rows { claimed.append(try Self.decode(row.makeRandomAccess())) }
        return claimed.sorted { ($0.nextAttemptAt, $0.createdAt) < ($1.nextAttemptAt, $1.createdAt) }
    }

    /// Records attempt `record.attempts`'s outcome: delivered, retried at `retryAt`, or given up
    /// (`retryAt` nil and not delivered). Ignored if the attempt is no longer the latest (its lease
    /// expired and another attempt started).
    package func finish(
        _ record: NotificationRecord, startedAt: Date, finishedAt: Date, delivered: Bool, detail: String, retryAt: Date?
    ) async throws {
        let status: NotificationRecord.Status = delivered ? .delivered : (retryAt == nil ? .failed : .pending)
        let detail = String(detail.prefix(1_000))
        try await client.withTransaction(logger: logger) { connection in
            let rows = try await connection.query("""
                UPDATE notification_outbox SET status = \(status.rawValue),
                    next_attempt_at = \(retryAt ?? finishedAt),
                    delivered_at = \(delivered ? finishedAt : nil)
                WHERE id = \(record.id) AND attempts = \(record.attempts) AND status = 'pending'
                RETURNING id
                """, logger: logger)
            var updated = false
            for try await _ in rows { updated = true }
            guard updated else { return }
            try await connection.query("""
                INSERT INTO notification_attempts (notification_id, attempt, started_at, finished_at, outcome, detail)
                VALUES (\(record.id), \(record.attempts), \(startedAt), \(finishedAt),
                    \(delivered ? "delivered" : "failed"), \(detail))
                ON CONFLICT DO NOTHING
                """, logger: logger)
        }
    }

    /// Gives claimed messages back untried: their attempt is not counted and they are due at `now`
    /// (each only if no other attempt took it since).
    package func release(_ records: [NotificationRecord], now: Date) async throws {
        for record in records {
            try await client.query("""
                UPDATE notification_outbox SET attempts = attempts - 1, next_attempt_at = \(now)
                WHERE id = \(record.id) AND attempts = \(record.attempts) AND status = 'pending'
                """, logger: logger)
        }
    }

    /// The organization's messages, newest first.
    package func list(organization: OrganizationID, limit: Int = 100) async throws -> [NotificationRecord] {
        let rows = try await client.query("""
            SELECT * FROM notification_outbox WHERE organization_id = \(organization.uuid)
            ORDER BY created_at DESC, id LIMIT \(limit)
            """, logger: logger)
        var result: [NotificationRecord] = []
        for try await row in rows { result.append(try Self.decode(row.makeRandomAccess())) }
        return result
    }

    /// A message's recorded attempts, in order.
    package func attempts(of id: UUID) async throws -> [NotificationAttempt] {
        let rows = try await client.query("""
            SELECT attempt, started_at, finished_at, outcome, detail FROM notification_attempts
            WHERE notification_id = \(id) ORDER BY attempt
            """, logger: logger)
        var result: [NotificationAttempt] = []
        for try await (attempt, started, finished, outcome, detail) in rows.decode((Int, Date, Date, String, String).self) {
            result.append(NotificationAttempt(
                attempt: attempt, startedAt: started, finishedAt: finished, delivered: outcome == "delivered",
                detail: detail))
        }
        return result
    }

    static func decode(_ r: PostgresRandomAccessRow) throws -> NotificationRecord {
        let statusText: String = try r.value("status")
        guard let status = NotificationRecord.Status(rawValue: statusText) else {
            throw CHOMError(.integrity, "unknown notification status \(statusText)")
        }
        let organization: UUID? = try r.value("organization_id")
        return NotificationRecord(
            id: try r.value("id"), organizationID: organization.map(OrganizationID.init), channel: try r.value("channel"),
            recipient: try r.value("recipient"), channelID: try r.value("channel_id"), event: try r.value("event"), subject: try r.value("subject"),
            body: try r.value("body"), status: status, attempts: try r.value("attempts"),
            nextAttemptAt: try r.value("next_attempt_at"), createdAt: try r.value("created_at"),
            deliveredAt: try r.value("delivered_at"))
    }
}
