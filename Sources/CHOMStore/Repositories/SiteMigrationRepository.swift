package import CHOMCore
package import Foundation
import Logging
package import PostgresNIO

/// Site migrations (`site_migrations`): at most one open per site, enforced by a unique index.
package struct SiteMigrationRepository: Sendable {
    let client: PostgresClient
    let logger: Logger

    static let columns = """
        id, site_id, from_agent, to_agent, reason, state, step, task_id, backup_id, failed_step, message,
        switched_at, maintenance_started_at, maintenance_ended_at, requested_by, created_at, updated_at, finished_at,
        source_failed_at, backup_taken_at, backup_verified
        """

    /// Inserts a new migration; a `CHOMError(.conflict)` when the site already has an open one.
    package func create(_ migration: SiteMigrationRecord, in transaction: AuditedTransaction) async throws {
        let open = try await transaction.connection.query(
            "SELECT id FROM site_migrations WHERE site_id = \(migration.siteID.uuid) AND finished_at IS NULL",
            logger: logger)
        for try await id in open.decode(UUID.self) {
            throw CHOMError(.conflict, "the site is already moving (migration \(id))")
        }
        try await transaction.connection.query("""
            INSERT INTO site_migrations (id, site_id, from_agent, to_agent, reason, state, step, requested_by,
                                         created_at, updated_at, backup_id, source_failed_at, backup_taken_at,
                                         backup_verified)
            VALUES (\(migration.id.uuid), \(migration.siteID.uuid), \(migration.fromAgent.uuid),
                    \(migration.toAgent.uuid), \(migration.reason), \(migration.state), \(migration.step),
                    \(migration.requestedBy), \(migration.createdAt), \(migration.updatedAt),
                    \(migration.backupID?.uuid), \(migration.sourceFailedAt), \(migration.backupTakenAt),
                    \(migration.backupVerified))
            """, logger: logger)
    }

    /// Writes every mutable column of `migration` back.
    package func update(_ migration: SiteMigrationRecord, on connection: PostgresConnection) async throws {
        try await connection.query("""
            UPDATE site_migrations SET state = \(migration.state), step = \(migration.step),
                task_id = \(migration.taskID?.uuid), backup_id = \(migration.backupID?.uuid),
                failed_step = \(migration.failedStep), message = \(migration.message),
                switched_at = \(migration.switchedAt), maintenance_started_at = \(migration.maintenanceStartedAt),
                maintenance_ended_at = \(migration.maintenanceEndedAt), updated_at = \(migration.updatedAt),
                finished_at = \(migration.finishedAt)
            WHERE id = \(migration.id.uuid)
            """, logger: logger)
    }

    package func get(_ id: MigrationID) async throws -> SiteMigrationRecord? {
        try await first(client.query(
            "SELECT \(unescaped: Self.columns) FROM site_migrations WHERE id = \(id.uuid)", logger: logger))
    }

    /// Open migrations, oldest first.
    package func open() async throws -> [SiteMigrationRecord] {
        try await all(client.query("""
            SELECT \(unescaped: Self.columns) FROM site_migrations WHERE finished_at IS NULL ORDER BY created_at, id
            """, logger: logger))
    }

    /// The sites whose last migration (of `reason`, when given) failed at or after `since` (and
    /// none started since).
    package func recentlyFailed(since: Date, reason: String? = nil) async throws -> Set<SiteID> {
        let rows = try await client.query("""
            SELECT DISTINCT ON (site_id) site_id, state FROM site_migrations
            WHERE (created_at >= \(since) OR finished_at >= \(since)) AND (\(reason)::text IS NULL OR reason = \(reason))
            ORDER BY site_id, created_at DESC
            """, logger: logger)
        var failed: Set<SiteID> = []
        for try await (site, state) in rows.decode((UUID, String).self) where state == "failed" {
            failed.insert(SiteID(site))
        }
        return failed
    }

    /// The newest migrations first, optionally of one site or only open ones.
    package func list(site: SiteID? = nil, openOnly: Bool = false, limit: Int = 100) async throws
        -> [SiteMigrationRecord]
    {
        try await all(client.query("""
            SELECT \(unescaped: Self.columns) FROM site_migrations
            WHERE (\(site?.uuid)::uuid IS NULL OR site_id = \(site?.uuid)::uuid)
              AND (NOT \(openOnly) OR finished_at IS NULL)
            ORDER BY created_at DESC, id LIMIT \(limit)
            """, logger: logger))
    }

    private func first(_ rows: PostgresRowSequence) async throws -> SiteMigrationRecord? {
        for try await row in rows { return try Self.decode(row.makeRandomAccess()) }
        return nil
    }

    private func all(_ rows: PostgresRowSequence) async throws -> [SiteMigrationRecord] {
        var result: [SiteMigrationRecord] = []
        for try await row in rows { result.append(try Self.decode(row.makeRandomAccess())) }
        return result
    }

    static func decode(_ row: PostgresRandomAccessRow) throws -> SiteMigrationRecord {
        var record = SiteMigrationRecord(
            id: MigrationID(try row.value("id") as UUID), siteID: SiteID(try row.value("site_id") as UUID),
            fromAgent: AgentID(try row.value("from_agent") as UUID), toAgent: AgentID(try row.value("to_agent") as UUID),
            reason: try row.value("reason"), state: try row.value("state"), step: try row.value("step"),
            requestedBy: try row.value("requested_by"), now: try row.value("created_at"))
        record.taskID = (try row.value("task_id") as UUID?).map(TaskID.init)
        record.backupID = (try row.value("backup_id") as UUID?).map(BackupID.init)
        record.failedStep = try row.value("failed_step")
        record.message = try row.value("message")
        record.switchedAt = try row.value("switched_at")
        record.maintenanceStartedAt = try row.value("maintenance_started_at")
        record.maintenanceEndedAt = try row.value("maintenance_ended_at")
        record.updatedAt = try row.value("updated_at")
        record.finishedAt = try row.value("finished_at")
        record.sourceFailedAt = try row.value("source_failed_at")
        record.backupTakenAt = try row.value("backup_taken_at")
        record.backupVerified = try row.value("backup_verified")
        return record
    }
}
