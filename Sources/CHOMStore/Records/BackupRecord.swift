package import CHOMCore
package import Foundation

package struct BackupRecord: Sendable, Equatable {
    package enum State: String, Sendable {
        case queued, running, succeeded, failed
    }

    /// Why the backup was taken. A `staleCopy` is the copy an agent held of a site placed elsewhere,
    /// backed up before reconciliation removed it: kept for a human to look at, never restored,
    /// migrated or failed over from, and outside retention and "latest backup".
    package enum Purpose: String, Sendable {
        case regular
        case staleCopy = "stale_copy"
    }

    package var id: BackupID
    package var siteID: SiteID
    package var tenantID: TenantID
    package var agentID: AgentID?
    package var taskID: TaskID?
    package var state: State
    package var objectKey: String?
    package var sizeBytes: Int64?
    package var durationMs: Int64?
    package var archiveSHA256: String?
    package var fileCount: Int64?
    package var encrypted: Bool
    package var createdAt: Date
    package var finishedAt: Date?
    package var verifiedAt: Date?
    package var deletedAt: Date?
    package var message: String?
    package var purpose: Purpose = .regular

    package init(
        id: BackupID, siteID: SiteID, tenantID: TenantID, agentID: AgentID?, taskID: TaskID?, state: State,
        objectKey: String? = nil, sizeBytes: Int64? = nil, durationMs: Int64? = nil, archiveSHA256: String? = nil,
        fileCount: Int64? = nil, encrypted: Bool, createdAt: Date, finishedAt: Date? = nil, verifiedAt: Date? = nil,
        deletedAt: Date? = nil, message: String? = nil
    ) {
        self.id = id
        self.siteID = siteID
        self.tenantID = tenantID
        self.agentID = agentID
        self.taskID = taskID
        self.state = state
        self.objectKey = objectKey
        self.sizeBytes = sizeBytes
        self.durationMs = durationMs
        self.archiveSHA256 = archiveSHA256
        self.fileCount = fileCount
        self.encrypted = encrypted
        self.createdAt = createdAt
        self.finishedAt = finishedAt
        self.verifiedAt = verifiedAt
        self.deletedAt = deletedAt
        self.message = message
    }

    /// A backup that can be restored or verified: it succeeded and is still stored.
    package var isUsable: Bool { state == .succeeded && deletedAt == nil && objectKey != nil }

    /// A backup a restore, a migration or a failover may start from: usable and a regular one.
    package var isRestorable: Bool { isUsable && purpose == .regular }
}

/// A site's backup schedule as stored.
package struct BackupScheduleRecord: Sendable, Equatable {
    package var siteID: SiteID
    package var policy: BackupPolicy
    package var nextRunAt: Date
    package var prunedThrough: Date?
}

/// A tenant's backup encryption key, sealed by the coordinator.
package struct TenantBackupKeyRecord: Sendable, Equatable {
    package var tenantID: TenantID
    package var keyID: String
    package var sealedKey: String
}
