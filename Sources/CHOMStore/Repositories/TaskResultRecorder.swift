import CHOMCore
import Foundation
import Logging
import PostgresNIO

/// What a finished task changes besides its own row, applied in the transaction that records
/// the result (`TaskQueue.finish`): every kind updates exactly what it is about.
///
/// | kind | succeeded | failed |
/// |---|---|---|
/// | deploy | site active on the reported (else the task's) release | site `deploy_failed` |
/// | rollback, restore | site active on the reported release (restore: on the task's agent, its port elsewhere let go) | restore: its claims let go |
/// | configure | a `config_failed` site back to active/created | site `config_failed` |
/// | suspend | `suspended` as the task asked | — |
/// | remove | site `removed` (its backup recorded, its names and port let go) | site `remove_failed` (backup failed) |
/// | backup | backup row succeeded with size, duration, SHA-256, key, files | backup row failed |
/// | verify_backup | backup `verified_at` | backup message says why |
/// | prune_backups | `deleted_at` for the reported backups of the site (partial deletes too) | same |
/// | read_site_logs | — (the lines are on the task row: `result_lines`) | — |
struct TaskResultRecorder {
    let connection: PostgresConnection
    let logger: Logger
    let now: Date

    func apply(_ report: TaskReport, of task: TaskRecord) async throws {
        guard let site = task.siteID else { return }
        switch task.kind {
        case .deploy:
            if report.succeeded {
                try await makeLive(site, release: report.releaseID ?? task.releaseID, path: report.releasePath)
            } else {
                try await setState(site, "deploy_failed", unless: ["removing", "removed"])
            }
        case .rollback:
            if report.succeeded {
                try await makeLive(site, release: report.releaseID, path: report.releasePath)
            }
        case .restore:
            if report.succeeded {
                try await makeLive(site, release: report.releaseID, path: report.releasePath)
                try await connection.query(
                    "UPDATE sites SET agent_id = \(task.agentID.uuid) WHERE id = \(site.uuid)", logger: logger)
                try await SiteClaims.releasePorts(site: site, except: task.agentID, on: connection, logger: logger)
            } else {
                try await releaseRestoreClaims(site)
            }
        case .configure:
            if report.succeeded {
                try await connection.query("""
                    UPDATE sites SET state = CASE WHEN current_release_id IS NULL THEN 'created' ELSE 'active' END,
                        updated_at = \(now)
                    WHERE id = \(site.uuid) AND state = 'config_failed'
                    """, logger: logger)
            } else {
                try await setState(site, "config_failed", unless: ["removing", "removed", "deploying"])
            }
        case .suspend:
            if report.succeeded, let suspended = task.suspended {
                try await connection.query(
                    "UPDATE sites SET suspended = \(suspended), updated_at = \(now) WHERE id = \(site.uuid)",
                    logger: logger)
            }
        case .remove:
            try await setState(site, report.succeeded ? "removed" : "remove_failed", unless: [])
            if report.succeeded { try await SiteClaims.releaseAll(site: site, on: connection, logger: logger) }
            try await recordBackup(report, of: task)
        case .backup:
            try await recordBackup(report, of: task)
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
        }
    }

    /// A failed restore lets go what it claimed: everything when the site is still removed, else the
    /// port it claimed on another agent.
    private func releaseRestoreClaims(_ site: SiteID) async throws {
        let rows = try await connection.query(
            "SELECT state, agent_id FROM sites WHERE id = \(site.uuid) FOR UPDATE", logger: logger)
        for try await (state, agent) in rows.decode((String, UUID?).self) {
            if state == "removed" {
                try await SiteClaims.releaseAll(site: site, on: connection, logger: logger)
            } else if let agent {
                try await SiteClaims.releasePorts(site: site, except: AgentID(agent), on: connection, logger: logger)
            }
        }
    }

    private func makeLive(_ site: SiteID, release: ReleaseID?, path: String?) async throws {
        try await connection.query("""
            UPDATE sites SET state = 'active', current_release_id = COALESCE(\(release?.uuid), current_release_id),
                current_release_path = COALESCE(\(path), current_release_path), updated_at = \(now)
            WHERE id = \(site.uuid)
            """, logger: logger)
    }

    private func setState(_ site: SiteID, _ state: String, unless kept: [String]) async throws {
        try await connection.query("""
            UPDATE sites SET state = \(state), updated_at = \(now)
            WHERE id = \(site.uuid) AND NOT (state = ANY(\(kept)))
            """, logger: logger)
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
