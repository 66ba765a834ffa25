package import Foundation

/// `POST /v1/sites/{site}/backups` (body optional): encrypt with the tenant's key (default true).
package struct CreateBackupRequest: Codable, Sendable, Equatable {
    package var encrypt: Bool?
    package static let fields: Set<String> = ["encrypt"]
    package init(encrypt: Bool? = nil) { self.encrypt = encrypt }
}

/// `POST /v1/sites/{site}/backups/{backup}/restore` (body optional): onto `agentId` (operators
/// only), else the site's own agent.
package struct RestoreBackupRequest: Codable, Sendable, Equatable {
    package var agentId: String?
    package static let fields: Set<String> = ["agentId"]
    package init(agentId: String? = nil) { self.agentId = agentId }
}

package struct BackupResponse: Codable, Sendable, Equatable {
    package var id: String
    package var siteId: String
    package var agentId: String?
    package var taskId: String?
    /// queued, running, succeeded or failed.
    package var state: String
    package var objectKey: String?
    package var sizeBytes: Int64?
    package var durationMs: Int64?
    package var archiveSha256: String?
    package var fileCount: Int64?
    package var encrypted: Bool
    package var createdAt: Date
    package var finishedAt: Date?
    package var verifiedAt: Date?
    package var deletedAt: Date?
    package var message: String?
    package init(
        id: String, siteId: String, agentId: String?, taskId: String?, state: String, objectKey: String?,
        sizeBytes: Int64?, durationMs: Int64?, archiveSha256: String?, fileCount: Int64?, encrypted: Bool,
        createdAt: Date, finishedAt: Date?, verifiedAt: Date?, deletedAt: Date?, message: String?
    ) {
        self.id = id
        self.siteId = siteId
        self.agentId = agentId
        self.taskId = taskId
        self.state = state
        self.objectKey = objectKey
        self.sizeBytes = sizeBytes
        self.durationMs = durationMs
        self.archiveSha256 = archiveSha256
        self.fileCount = fileCount
        self.encrypted = encrypted
        self.createdAt = createdAt
        self.finishedAt = finishedAt
        self.verifiedAt = verifiedAt
        self.deletedAt = deletedAt
        self.message = message
    }
}

/// `PUT /v1/sites/{site}/backup-schedule`. `everyHours` 0 removes the schedule.
package struct BackupScheduleRequest: Codable, Sendable, Equatable {
    package var everyHours: Int
    package var keepLast: Int?
    package var keepDaily: Int?
    package var keepWeekly: Int?
    package var keepMonthly: Int?
    package var encrypt: Bool?
    package static let fields: Set<String> = ["everyHours", "keepLast", "keepDaily", "keepWeekly", "keepMonthly", "encrypt"]
    package init(
        everyHours: Int, keepLast: Int? = nil, keepDaily: Int? = nil, keepWeekly: Int? = nil, keepMonthly: Int? = nil,
        encrypt: Bool? = nil
    ) {
        self.everyHours = everyHours
        self.keepLast = keepLast
        self.keepDaily = keepDaily
        self.keepWeekly = keepWeekly
        self.keepMonthly = keepMonthly
        self.encrypt = encrypt
    }
}

package struct BackupScheduleResponse: Codable, Sendable, Equatable {
    package var siteId: String
    /// False when the site has no schedule (the other numbers are then 0).
    package var enabled: Bool
    package var everyHours: Int
    package var keepLast: Int
    package var keepDaily: Int
    package var keepWeekly: Int
    package var keepMonthly: Int
    package var encrypt: Bool
    package var nextRunAt: Date?
    package init(
        siteId: String, enabled: Bool, everyHours: Int, keepLast: Int, keepDaily: Int, keepWeekly: Int,
        keepMonthly: Int, encrypt: Bool, nextRunAt: Date?
    ) {
        self.siteId = siteId
        self.enabled = enabled
        self.everyHours = everyHours
        self.keepLast = keepLast
        self.keepDaily = keepDaily
        self.keepWeekly = keepWeekly
        self.keepMonthly = keepMonthly
        self.encrypt = encrypt
        self.nextRunAt = nextRunAt
    }
}
