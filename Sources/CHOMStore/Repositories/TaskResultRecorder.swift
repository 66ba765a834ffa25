import CHOMCore
import Foundation
import Logging
import PostgresNIO

/// What a finished task changes besides its own row, applied in the transaction that records
/// the result (`TaskQueue.finish`): every kind updates exactly what it is about. A site's state
/// changes only through `SiteLifecycle` (`ScopedSiteRepository.transition`): a result becomes an
/// event, the event actions, the actions SQL. A result from a task on an agent the site is not
/// placed on says nothing about the site (no event). The DNS actions are left to DNS upkeep,
/// which follows placements.
///
/// | kind | succeeded | failed |
/// |---|---|---|
/// | deploy | `deploySucceeded`: active on the reported (else the task's) release | `deployFailed`; `deploy.failed` told |
/// | rollback | `deploySucceeded` with the reported release | — (the site serves what it served) |
/// | restore | `restoreSucceeded`: active on the reported release, on the task's agent, its port elsewhere let go | `restoreFailed`; its claims let go |
/// | configure | `configureSucceeded`: a `config_failed` site back to active/created | `configureFailed` |
/// | suspend | `suspensionApplied`: `suspended` as the task asked | — |
/// | remove | `removeSucceeded`: removed (its backup recorded, its names and port let go) | `removeFailed` (backup failed) |
/// | backup | backup row succeeded with size, duration, SHA-256, key, files | backup row failed; `backup.failed` told |
/// | verify_backup | backup `verified_at` | backup message says why |
/// | prune_backups | `deleted_at` for the reported backups of the site (partial deletes too) | same |
/// | read_site_logs | — (the lines are on the task row: `result_lines`) | — |
struct TaskResultRecorder {
    let connection: PostgresConnection
    let logger: Logger
    let now: Date

    /// Failed deploys and backups are told to the site's organization, with the result (outbox).
    private var notifications: NotificationWriter { NotificationWriter(connection: connection, logger: logger) }

    func apply(_ report: TaskReport, of task: TaskRecord) async throws {
        guard let site = task.siteID else { return }
        switch task.kind {
        case .deploy:
            if report.succeeded {
                try await handle(.deploySucceeded(report.releaseID ?? task.releaseID), of: task, report: report)
            } else {
                try await handle(.deployFailed(step: report.failedStep), of: task, report: report)
                try await notifications.enqueue(about: site, now: now) {
                    $0.deployFailed(task: task.id.description, step: report.failedStep, message: report.message)
                }
            }
        case .rollback:
            if report.succeeded { try await handle(.deploySucceeded(report.releaseID), of: task, report: report) }
        case .restore:
            // A migration's copy onto its target: the site moves there only at the migration's switch
            // (`MigrationRunner`), after the target passed the health check.
            if try await isMigrationCopy(task) { return }
            if report.succeeded {
                // The restore's agent becomes the site's: the event applies whichever agent ran it.
                try await transition(
                    site, .restoreSucceeded(on: task.agentID, release: report.releaseID), path: report.releasePath)
            } else {
                try await releaseRestoreClaims(site)
                try await transition(site, .restoreFailed, path: nil)
            }
        case .configure:
            try await handle(report.succeeded ? .configureSucceeded : .configureFailed, of: task, report: report)
        case .suspend:
            // A migration's maintenance window on the old agent says nothing of the site's own
            // suspension (the site is served again from the new agent after the switch).
            if try await isMaintenance(task) { return }
            if report.succeeded, let suspended = task.suspended {
                try await handle(.suspensionApplied(suspended), of: task, report: report)
            }
        case .remove:
            // A stale copy's removal (reconciliation, `backups.purpose = 'stale_copy'`): the site lives
            // on elsewhere, so only the copy's backup is recorded; its state and claims stay.
            if try await isStaleCopyRemoval(task) { return try await recordBackup(report, of: task) }
            try await transition(site, report.succeeded ? .removeSucceeded : .removeFailed, path: nil)
            try await recordBackup(report, of: task)
        case .backup:
            try await recordBackup(report, of: task)
            if !report.succeeded, let backup = task.backupID {
                try await notifications.enqueue(about: site, now: now) {
                    $0.backupFailed(task: task.id.description, backup: backup.description, message: report.message)
                }
            }
        case .verifyBackup:
            guard let backup = task.backupID else { return }
            if report.succeeded {
                let verifiedAt = report.backup?.verifiedAt ?? now
                try await connection.query("""
                    UPDATE backups SET verified_at = \(verifiedAt), message = NULL
                    WHERE id = \(backup.uuid) AND site_id = \(site.uuid)
                    """, logger: logger)
            } else {
                try await connection.query("""
                    UPDATE backups SET message = \("verification failed: " + report.message)
                    WHERE id = \(backup.uuid) AND site_id = \(site.uuid)
                    """, logger: logger)
            }
        case .pruneBackups:
            let ids = report.deletedBackupIDs.map(\.uuid)
            guard !ids.isEmpty else { return }
            try await connection.query("""
                UPDATE backups SET deleted_at = \(now)
                WHERE site_id = \(site.uuid) AND id = ANY(\(ids)) AND deleted_at IS NULL
                """, logger: logger)
        case .readSiteLogs:
            break  // The lines stay on the task row until the route takes them.
        case .ping:
            break
        }
    }

    /// A failed restore lets go what it claimed: everything when the site is still removed, else the
    /// port it claimed on another agent.
    private func releaseRestoreClaims(_ site: SiteID) async throws {
        let rows = try await connection.query(
            "SELECT state, agent_id FROM sites WHERE id = \(site.uuid) FOR UPDATE", logger: logger)
        for try await (state, agent) in rows.decode((String, UUID?).self) {
            if SiteState(stored: state) == .removed {
                try await SiteClaims.releaseAll(site: site, on: connection, logger: logger)
            } else if let agent {
                try await SiteClaims.releasePorts(site: site, except: AgentID(agent), on: connection, logger: logger)
            }
        }
    }

    /// `event` for the task's site, if the task ran on the agent the site is placed on.
    private func handle(_ event: SiteEvent, of task: TaskRecord, report: TaskReport) async throws {
        guard let site = task.siteID else { return }
        let rows = try await connection.query("SELECT agent_id FROM sites WHERE id = \(site.uuid)", logger: logger)
        var placed: UUID?
        for try await agent in rows.decode(UUID?.self) { placed = agent }
        guard placed == task.agentID.uuid else { return }
        try await transition(site, event, path: report.releasePath)
    }

    /// Applies a result's event: results are never refused (`SiteLifecycle`), so a refusal here is a
    /// bug, logged rather than failing the result's transaction.
    private func transition(_ site: SiteID, _ event: SiteEvent, path: String?) async throws {
        let outcome = try await ScopedSiteRepository.transition(
            site, event, releasePath: path, now: now, on: connection, logger: logger)
        if case .failure(let refusal)? = outcome {
            logger.error("a task result was refused", metadata: [LogKey.siteID: "\(site)", LogKey.error: "\(refusal)"])
        }
    }

    /// Whether a suspend task is a migration's maintenance window on its old agent: suspended
    /// while the site holds no suspension reason, with a migration off that agent still open.
    private func isMaintenance(_ task: TaskRecord) async throws -> Bool {
        guard let site = task.siteID, task.suspended == true else { return false }
        let rows = try await connection.query("""
            SELECT cardinality(s.suspension_reasons) = 0 AND EXISTS (
                SELECT 1 FROM site_migrations m WHERE m.site_id = s.id AND m.finished_at IS NULL
                  AND m.from_agent = \(task.agentID.uuid))
            FROM sites s WHERE s.id = \(site.uuid)
            """, logger: logger)
        for try await maintenance in rows.decode(Bool.self) { return maintenance }
        return false
    }

    /// Whether a restore is an open migration's copy onto its target agent.
    private func isMigrationCopy(_ task: TaskRecord) async throws -> Bool {
        guard let site = task.siteID else { return false }
        let rows = try await connection.query("""
            SELECT EXISTS (SELECT 1 FROM site_migrations WHERE site_id = \(site.uuid) AND finished_at IS NULL
                             AND to_agent = \(task.agentID.uuid))
            """, logger: logger)
        for try await copy in rows.decode(Bool.self) { return copy }
        return false
    }

    /// Whether a remove task took a copy off an agent the site is not placed on (the site's agent
    /// is another), or was queued by reconciliation (its backup is a `stale_copy`).
    private func isStaleCopyRemoval(_ task: TaskRecord) async throws -> Bool {
        guard let site = task.siteID else { return false }
        let rows = try await connection.query("""
            SELECT s.agent_id IS DISTINCT FROM \(task.agentID.uuid)
                OR EXISTS (SELECT 1 FROM backups b WHERE b.id = \(task.backupID?.uuid) AND b.purpose = 'stale_copy')
            FROM sites s WHERE s.id = \(site.uuid)
            """, logger: logger)
        for try await stale in rows.decode(Bool.self) { return stale }
        return false
    }

    /// The backup row a backup (or remove) task made: succeeded only with a stored archive.
    private func recordBackup(_ report: TaskReport, of task: TaskRecord) async throws {
        guard let backup = task.backupID else { return }
        if report.succeeded, let stored = report.backup {
            try await connection.query("""
                UPDATE backups SET state = 'succeeded', object_key = \(stored.objectKey), size_bytes = \(stored.sizeBytes),
                    duration_ms = \(stored.durationMs), archive_sha256 = \(stored.archiveSHA256),
                    file_count = \(stored.fileCount), encrypted = \(stored.encrypted), finished_at = \(now), message = NULL
                WHERE id = \(backup.uuid) AND task_id = \(task.id.uuid)
                """, logger: logger)
        } else {
            try await connection.query("""
                UPDATE backups SET state = 'failed', finished_at = \(now), message = \(report.message)
                WHERE id = \(backup.uuid) AND task_id = \(task.id.uuid)
                """, logger: logger)
        }
    }
}
