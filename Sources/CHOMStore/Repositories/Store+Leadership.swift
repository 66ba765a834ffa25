package import Foundation
import Logging
package import PostgresNIO

extension Store {
    package var leadership: LeadershipRepository { LeadershipRepository(client: client, logger: logger) }

    /// A transaction for the leader's unaudited upkeep: its first statement is the epoch guard, so
    /// nothing in `body` commits once another replica has taken the lead.
    package func leaderTransaction<Result: Sendable>(
        epoch: Int64, _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        try await client.transaction(logger: logger) { connection in
            try await LeadershipRepository.checkEpoch(epoch, on: connection, logger: logger)
            return try await body(connection)
        }
    }

    /// `write` (audited) for the leader: the epoch is checked in the same transaction first.
    @discardableResult
    package func leaderWrite<Result: Sendable>(
        epoch: Int64, now: Date, _ body: (AuditedTransaction) async throws -> Result
    ) async throws -> Result {
        try await write(now: now) { transaction in
            try await leadership.checkEpoch(epoch, in: transaction)
            return try await body(transaction)
        }
    }

    /// Marks agents offline whose last heartbeat is older than `cutoff`, as the leader of `epoch`.
    /// Returns how many changed.
    package func markSilentAgentsOffline(before cutoff: Date, epoch: Int64) async throws -> Int {
        try await leaderTransaction(epoch: epoch) { connection in
            let rows = try await connection.query("""
                UPDATE agents SET state = 'offline'
                WHERE state = 'online' AND (last_heartbeat_at IS NULL OR last_heartbeat_at < \(cutoff)) RETURNING id
                """, logger: logger)
            var count = 0
            for try await _ in rows { count += 1 }
            return count
        }
    }

    /// Signs an audit checkpoint when the age rule makes one due, as the leader of `epoch`.
    package func checkpointIfDue(now: Date, epoch: Int64) async throws {
        // Entries a crash left staged join the chain first.
        try await AuditLog.chainPending(client: client, settings: auditSettings, now: now, logger: logger)
        guard auditSettings.signingKey != nil else { return }
        try await leaderTransaction(epoch: epoch) { connection in
            try await AuditLog.checkpointIfDue(settings: auditSettings, now: now, on: connection, logger: logger)
        }
    }
}
