import CHOMAudit
import CHOMCore
import CHOMProtocol
import CHOMStore
import Foundation

/// Starts a backup: the backups row, its task (with the tenant's key when encrypted) and the audit
/// entry, in one transaction. For `POST /v1/sites/{site}/backups` and the schedule loop.
struct BackupStarter: Sendable {
    let store: Store
    let tasks: SiteTaskBuilder

    /// - Parameters:
    ///   - audit: the entry to record; the backup and task ids are added to its details.
    ///   - before: runs first in the transaction; returning false skips the backup (nothing written).
    ///   - recorded: runs in the transaction once the backup row and its task are written.
    @discardableResult
    func start(
        _ target: SiteTaskTarget, encrypt: Bool, audit: AuditEntry,
        before: (AuditedTransaction) async throws -> Bool = { _ in true },
        recorded: (AuditedTransaction, BackupRecord) async throws -> Void = { _, _ in }
    ) async throws -> BackupRecord? {
        let site = target.site
        let backups = store.backups(in: target.scoped.scope)
        let taskID = TaskID()
        let record = BackupRecord(
            id: BackupID(), siteID: site.id, tenantID: site.tenantID, agentID: target.agent, taskID: taskID,
            state: .queued, encrypted: encrypt, createdAt: audit.time)
        do {
            try await store.write(now: audit.time) { transaction in
                guard try await before(transaction) else { throw Skipped() }
                // Moved since it was read: the backup would copy a tree that the old agent no
                // longer serves (and a failover could restore it).
                try await target.scoped.requireUnchanged(site, in: transaction)
                let key = encrypt
                    ? try await backups.tenantKey(site.tenantID, in: transaction) { tasks.makeTenantKey(site.tenantID) }
                    : nil
                let backup = try tasks.backup(site, id: record.id, key: key)
                let task = try tasks.task(id: taskID, .backup, site: site, agent: target.agent, backupID: record.id) {
                    $0.backup = backup
                }
                try await backups.start(record, task: task, now: audit.time, in: transaction)
                try await recorded(transaction, record)
                var entry = audit
                entry.details["backup"] = record.id.description
                entry.details["task"] = taskID.description
                entry.details["encrypt"] = "\(encrypt)"
                try await transaction.record(entry)
            }
        } catch is Skipped {
            return nil
        }
        return record
    }

    private struct Skipped: Error {}
}
