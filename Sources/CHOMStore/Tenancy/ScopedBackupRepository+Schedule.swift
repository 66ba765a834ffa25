package import CHOMCore
package import Foundation
import Logging
import PostgresNIO

/// A site's backup schedule, through the tenant scope.
extension ScopedBackupRepository {
    package func schedule(site: SiteRecord) async throws -> BackupScheduleRecord? {
        guard scope.contains(site.tenantID) else { return nil }
        let rows = try await client.query(
            "SELECT * FROM backup_schedules WHERE site_id = \(site.id.uuid)", logger: logger)
        for try await row in rows { return try BackupScheduleRepository.decode(row.makeRandomAccess()) }
        return nil
    }

    /// Sets (or replaces) the schedule; the first scheduled backup runs at `nextRunAt`.
    package func setSchedule(
        site: SiteRecord, policy: BackupPolicy, nextRunAt: Date, now: Date, in transaction: AuditedTransaction
    ) async throws -> BackupScheduleRecord {
        guard scope.contains(site.tenantID) else { throw CHOMError(.notFound, "no site \(site.id)") }
        let rows = try await transaction.connection.query("""
            INSERT INTO backup_schedules (site_id, every_hours, keep_last, keep_daily, keep_weekly, keep_monthly, encrypt,
                                          next_run_at, updated_at)
            VALUES (\(site.id.uuid), \(policy.everyHours), \(policy.keepLast), \(policy.keepDaily), \(policy.keepWeekly),
                    \(policy.keepMonthly), \(policy.encrypt), \(nextRunAt), \(now))
            ON CONFLICT (site_id) DO UPDATE SET every_hours = EXCLUDED.every_hours, keep_last = EXCLUDED.keep_last,
                keep_daily = EXCLUDED.keep_daily, keep_weekly = EXCLUDED.keep_weekly,
                keep_monthly = EXCLUDED.keep_monthly, encrypt = EXCLUDED.encrypt,
                next_run_at = LEAST(backup_schedules.next_run_at, EXCLUDED.next_run_at), updated_at = EXCLUDED.updated_at
            RETURNING *
            """, logger: logger)
        for try await row in rows { return try BackupScheduleRepository.decode(row.makeRandomAccess()) }
        throw CHOMError(.internal, "the schedule was not stored")
    }

    /// Removes the schedule; true if there was one.
    @discardableResult
    package func removeSchedule(site: SiteRecord, in transaction: AuditedTransaction) async throws -> Bool {
        guard scope.contains(site.tenantID) else { throw CHOMError(.notFound, "no site \(site.id)") }
        let rows = try await transaction.connection.query(
            "DELETE FROM backup_schedules WHERE site_id = \(site.id.uuid) RETURNING site_id", logger: logger)
        for try await _ in rows { return true }
        return false
    }
}
