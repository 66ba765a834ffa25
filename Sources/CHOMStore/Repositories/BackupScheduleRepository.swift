package import CHOMCore
package import Foundation
import Logging
import PostgresNIO

/// The fleet-wide side of backup schedules, for the scheduler loop: which schedules are due,
/// which sites have a backup that no prune has covered yet. Each run is claimed with a
/// conditional update in the transaction that enqueues it, so replicas never enqueue one twice.
package struct BackupScheduleRepository: Sendable {
    let client: PostgresClient
    let logger: Logger

    /// Schedules whose next run is due, of sites that are placed and not removed, oldest first.
    package func due(now: Date, limit: Int = 100) async throws -> [BackupScheduleRecord] {
        let rows = try await client.query("""
            SELECT b.* FROM backup_schedules b JOIN sites s ON s.id = b.site_id
            WHERE b.next_run_at <= \(now) AND s.agent_id IS NOT NULL AND s.state NOT IN ('removing', 'removed')
            ORDER BY b.next_run_at LIMIT \(limit)
            """, logger: logger)
        var due: [BackupScheduleRecord] = []
        for try await row in rows { due.append(try Self.decode(row.makeRandomAccess())) }
        return due
    }

    /// Schedules with a backup that succeeded after the last prune, and no prune open for the site.
    package func needingPrune(limit: Int = 100) async throws -> [(BackupScheduleRecord, Date)] {
        let rows = try await client.query("""
            SELECT b.*, latest.finished_at AS latest_backup FROM backup_schedules b
            JOIN LATERAL (SELECT max(finished_at) AS finished_at FROM backups
                          WHERE site_id = b.site_id AND state = 'succeeded' AND deleted_at IS NULL
                            AND purpose = 'regular') latest ON true
            JOIN sites s ON s.id = b.site_id
            WHERE latest.finished_at IS NOT NULL AND (b.pruned_through IS NULL OR latest.finished_at > b.pruned_through)
              AND s.agent_id IS NOT NULL AND s.state NOT IN ('removing', 'removed')
              AND NOT EXISTS (SELECT 1 FROM tasks t WHERE t.site_id = b.site_id AND t.kind = 'prune_backups'
                              AND t.state IN ('queued', 'sent', 'accepted'))
            LIMIT \(limit)
            """, logger: logger)
        var result: [(BackupScheduleRecord, Date)] = []
        for try await row in rows {
            let random = row.makeRandomAccess()
            result.append((try Self.decode(random), try random.value("latest_backup")))
        }
        return result
    }

    /// Claims a due run: moves `next_run_at` to `next` if it is still due by `dueBy`; false when
    /// another pass claimed it first (or the schedule is gone).
    package func claim(_ site: SiteID, dueBy: Date, next: Date, in transaction: AuditedTransaction) async throws -> Bool {
        let rows = try await transaction.connection.query("""
            UPDATE backup_schedules SET next_run_at = \(next)
            WHERE site_id = \(site.uuid) AND next_run_at <= \(dueBy) RETURNING site_id
            """, logger: logger)
        for try await _ in rows { return true }
        return false
    }

    /// Claims a prune covering backups up to `through`; false when one was already claimed.
    package func claimPrune(_ site: SiteID, through: Date, in transaction: AuditedTransaction) async throws -> Bool {
        let rows = try await transaction.connection.query("""
            UPDATE backup_schedules SET pruned_through = \(through)
            WHERE site_id = \(site.uuid) AND (pruned_through IS NULL OR pruned_through < \(through)) RETURNING site_id
            """, logger: logger)
        for try await _ in rows { return true }
        return false
    }

    static func decode(_ row: PostgresRandomAccessRow) throws -> BackupScheduleRecord {
        let policy = try BackupPolicy(
            everyHours: try row.value("every_hours"), keepLast: try row.value("keep_last"),
            keepDaily: try row.value("keep_daily"), keepWeekly: try row.value("keep_weekly"),
            keepMonthly: try row.value("keep_monthly"), encrypt: try row.value("encrypt"))
        return BackupScheduleRecord(
            siteID: SiteID(try row.value("site_id", as: UUID.self)), policy: policy,
            nextRunAt: try row.value("next_run_at"), prunedThrough: try row.value("pruned_through"))
    }
}
