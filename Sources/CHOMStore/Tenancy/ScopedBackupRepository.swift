package import CHOMCore
package import Foundation
import Logging
import PostgresNIO

/// A site's backups, its backup schedule and its tenant's backup key, through a tenant scope:
/// a backup of a site outside the scope does not exist here.
package struct ScopedBackupRepository: Sendable {
    let client: PostgresClient
    let logger: Logger
    package let scope: TenantScope

    private var all: Bool { scope.tenantIDs == nil }
    private var ids: [UUID] { (scope.tenantIDs ?? []).map(\.uuid) }

    /// A page of a site's backups, newest first; `after` is the last (created, id) of the previous page.
    package func list(site: SiteID, after: (Date, UUID)? = nil, limit: Int = 1000) async throws -> [BackupRecord] {
        let rows = try await client.query("""
            SELECT * FROM backups WHERE site_id = \(site.uuid) AND (\(all) OR tenant_id = ANY(\(ids)))
              AND (\(after?.0)::timestamptz IS NULL OR (created_at, id) < (\(after?.0)::timestamptz, \(after?.1)::uuid))
            ORDER BY created_at DESC, id DESC LIMIT \(limit)
            """, logger: logger)
        var backups: [BackupRecord] = []
        for try await row in rows { backups.append(try Self.decode(row.makeRandomAccess())) }
        return backups
    }

    /// One backup of `site`; nil for another site's, another tenant's or a missing one.
    package func get(_ id: BackupID, site: SiteID) async throws -> BackupRecord? {
        let rows = try await client.query("""
            SELECT * FROM backups WHERE id = \(id.uuid) AND site_id = \(site.uuid) AND (\(all) OR tenant_id = ANY(\(ids)))
            """, logger: logger)
        for try await row in rows { return try Self.decode(row.makeRandomAccess()) }
        return nil
    }

    /// Inserts the task that makes a backup and the backup's queued row, in the caller's transaction.
    package func start(
        _ backup: BackupRecord, task: NewTask, now: Date, in transaction: AuditedTransaction
    ) async throws {
        guard scope.contains(backup.tenantID), task.backupID == backup.id else {
            throw CHOMError(.notFound, "no site \(backup.siteID)")
        }
        let connection = transaction.connection
        try await TaskQueue.insert(task, now: now, on: connection, logger: logger)
        try await connection.query("""
            INSERT INTO backups (id, site_id, tenant_id, agent_id, task_id, state, encrypted, created_at, purpose)
            VALUES (\(backup.id.uuid), \(backup.siteID.uuid), \(backup.tenantID.uuid), \(backup.agentID?.uuid),
                    \(task.id.uuid), 'queued', \(backup.encrypted), \(now), \(backup.purpose.rawValue))
            """, logger: logger)
    }

    /// Marks backups of `site` deleted (the coordinator removed their objects), in the caller's transaction.
    package func markDeleted(_ ids: [BackupID], site: SiteID, now: Date, in transaction: AuditedTransaction) async throws {
        guard !ids.isEmpty else { return }
        try await transaction.connection.query("""
            UPDATE backups SET deleted_at = \(now)
            WHERE site_id = \(site.uuid) AND id = ANY(\(ids.map(\.uuid))) AND deleted_at IS NULL
              AND (\(all) OR tenant_id = ANY(\(self.ids)))
            """, logger: logger)
    }

    // MARK: The tenant's backup key

    /// The tenant's key, created with `make` (key id, sealed key) on first use.
    package func tenantKey(
        _ tenant: TenantID, in transaction: AuditedTransaction, make: () -> (keyID: String, sealedKey: String)
    ) async throws -> TenantBackupKeyRecord {
        guard scope.contains(tenant) else { throw CHOMError(.notFound, "no tenant \(tenant)") }
        if let existing = try await tenantKey(tenant, on: transaction.connection) { return existing }
        let fresh = make()
        try await transaction.connection.query("""
            INSERT INTO tenant_backup_keys (tenant_id, key_id, sealed_key, created_at)
            VALUES (\(tenant.uuid), \(fresh.keyID), \(fresh.sealedKey), now()) ON CONFLICT (tenant_id) DO NOTHING
            """, logger: logger)
        guard let stored = try await tenantKey(tenant, on: transaction.connection) else {
            throw CHOMError(.internal, "the tenant's backup key was not stored")
        }
        return stored
    }

    /// The tenant's key, if one was made.
    package func tenantKey(_ tenant: TenantID) async throws -> TenantBackupKeyRecord? {
        guard scope.contains(tenant) else { return nil }
        return try await client.withConnection { try await tenantKey(tenant, on: $0) }
    }

    private func tenantKey(_ tenant: TenantID, on connection: PostgresConnection) async throws -> TenantBackupKeyRecord? {
        let rows = try await connection.query(
            "SELECT key_id, sealed_key FROM tenant_backup_keys WHERE tenant_id = \(tenant.uuid)", logger: logger)
        for try await (keyID, sealed) in rows.decode((String, String).self) {
            return TenantBackupKeyRecord(tenantID: tenant, keyID: keyID, sealedKey: sealed)
        }
        return nil
    }

    static func decode(_ row: PostgresRandomAccessRow) throws -> BackupRecord {
        let agent: UUID? = try row.value("agent_id")
        let task: UUID? = try row.value("task_id")
        let state: String = try row.value("state")
        let purpose: String = row.contains("purpose") ? try row.value("purpose") : "regular"
        var backup = BackupRecord(
            id: BackupID(try row.value("id", as: UUID.self)), siteID: SiteID(try row.value("site_id", as: UUID.self)),
            tenantID: TenantID(try row.value("tenant_id", as: UUID.self)), agentID: agent.map { AgentID($0) },
            taskID: task.map { TaskID($0) }, state: BackupRecord.State(rawValue: state) ?? .failed,
            objectKey: try row.value("object_key"), sizeBytes: try row.value("size_bytes"),
            durationMs: try row.value("duration_ms"), archiveSHA256: try row.value("archive_sha256"),
            fileCount: try row.value("file_count"), encrypted: try row.value("encrypted"),
            createdAt: try row.value("created_at"), finishedAt: try row.value("finished_at"),
            verifiedAt: try row.value("verified_at"), deletedAt: try row.value("deleted_at"),
            message: try row.value("message"))
        backup.purpose = BackupRecord.Purpose(rawValue: purpose) ?? .staleCopy
        return backup
    }
}
