package import Foundation
package import Logging
package import PostgresNIO

/// The fleet leader's epoch (`fleet_leadership`, one row). A replica that takes the leader's
/// advisory lock increments it; every write the leader makes checks it in the same transaction
/// (`checkEpoch`), so a replica that lost the lock but has not noticed yet (a partitioned session
/// keeps its lock until PostgreSQL notices) is refused instead of writing beside the new leader.
package struct LeadershipRepository: Sendable {
    let client: PostgresClient
    let logger: Logger

    /// The session advisory lock that makes a replica the leader. Distinct from the migration
    /// lock (`Migrator.advisoryLockKey`), the placement lock and the audit append lock.
    package static let lockKey: Int64 = 0x4348_4F4D_1EAD

    /// The current leadership, nil before any replica led.
    package struct Record: Sendable, Equatable {
        package var epoch: Int64
        package var holder: String
        package var acquiredAt: Date
        package var renewedAt: Date?
    }

    /// Records a new leadership: the epoch is one more than the last (1 the first time). Call it
    /// only while holding `lockKey`. A leader write in flight keeps the row shared-locked, so the
    /// increment waits for it: after this commits, no write of the previous epoch can commit.
    /// The leader's lock session runs it (`LeaderLock.acquire`); it returns the new epoch.
    package static func acquireQuery(holder: String, now: Date) -> PostgresQuery {
        """
        INSERT INTO fleet_leadership (id, epoch, holder, acquired_at, renewed_at)
        VALUES (1, 1, \(holder), \(now), \(now))
        ON CONFLICT (id) DO UPDATE SET epoch = fleet_leadership.epoch + 1, holder = EXCLUDED.holder,
            acquired_at = EXCLUDED.acquired_at, renewed_at = EXCLUDED.renewed_at
        RETURNING epoch
        """
    }

    package func current() async throws -> Record? {
        let rows = try await client.query(
            "SELECT epoch, holder, acquired_at, renewed_at FROM fleet_leadership WHERE id = 1", logger: logger)
        for try await (epoch, holder, acquired, renewed) in rows.decode((Int64, String, Date, Date?).self) {
            return Record(epoch: epoch, holder: holder, acquiredAt: acquired, renewedAt: renewed)
        }
        return nil
    }

    /// The guard of every leader write: refuses (`LeadershipError`) unless `epoch` is still the
    /// current one. The row stays share-locked until the transaction ends, so no new leader can
    /// take over between this check and the commit.
    package func checkEpoch(_ epoch: Int64, in transaction: AuditedTransaction) async throws {
        try await Self.checkEpoch(epoch, on: transaction.connection, logger: logger)
    }

    /// `checkEpoch` on a connection inside a transaction (`Store.leaderTransaction`).
    package static func checkEpoch(_ epoch: Int64, on connection: PostgresConnection, logger: Logger) async throws {
        let rows = try await connection.query(
            "SELECT epoch FROM fleet_leadership WHERE id = 1 FOR SHARE", logger: logger)
        var current: Int64?
        for try await value in rows.decode(Int64.self) { current = value }
        guard let current else { throw LeadershipError.noLeadership(held: epoch) }
        guard current == epoch else { throw LeadershipError.staleEpoch(held: epoch, current: current) }
    }

    /// Marks the leadership as alive; refused like any leader write when `epoch` is stale.
    package func renew(_ epoch: Int64, now: Date) async throws {
        try await client.transaction(logger: logger) { connection in
            try await Self.checkEpoch(epoch, on: connection, logger: logger)
            try await connection.query(
                "UPDATE fleet_leadership SET renewed_at = \(now) WHERE id = 1 AND epoch = \(epoch)", logger: logger)
        }
    }
}

/// A leader write refused because its epoch is not the fleet's current one.
package enum LeadershipError: Error, Equatable, CustomStringConvertible {
    /// Another replica took the lead since this epoch began.
    case staleEpoch(held: Int64, current: Int64)
    /// No replica has ever taken the lead.
    case noLeadership(held: Int64)

    package var description: String {
        switch self {
        case .staleEpoch(let held, let current):
            "a leader write of epoch \(held) was refused: the fleet's leadership is at epoch \(current)"
        case .noLeadership(let held):
            "a leader write of epoch \(held) was refused: no leadership is recorded"
        }
    }
}
