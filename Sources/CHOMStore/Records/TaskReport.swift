package import CHOMCore
package import Foundation

/// What an agent reported when a task ended (the store's view of a `TaskResult`), or what the
/// coordinator concluded itself (a task that ran out of delivery attempts).
package struct TaskReport: Sendable, Equatable {
    package struct Backup: Sendable, Equatable {
        package var objectKey: String
        package var sizeBytes: Int64
        package var durationMs: Int64
        package var archiveSHA256: String
        package var fileCount: Int64
        package var encrypted: Bool
        package var verifiedAt: Date?

        package init(
            objectKey: String, sizeBytes: Int64, durationMs: Int64, archiveSHA256: String, fileCount: Int64,
            encrypted: Bool, verifiedAt: Date? = nil
        ) {
            self.objectKey = objectKey
            self.sizeBytes = sizeBytes
            self.durationMs = durationMs
            self.archiveSHA256 = archiveSHA256
            self.fileCount = fileCount
            self.encrypted = encrypted
            self.verifiedAt = verifiedAt
        }

        /// A report that names a stored archive: an object key, a size and a SHA-256 (64 hex).
        package var describesArchive: Bool {
            !objectKey.isEmpty && sizeBytes > 0 && archiveSHA256.utf8.count == 64
                && archiveSHA256.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
        }
    }

    /// The lines a `read_site_logs` task read, oldest first.
    package struct SiteLogs: Sendable, Equatable {
        package var lines: [String]
        /// The byte cap cut a tail short; on a follow read, more lines are waiting.
        package var truncated: Bool
        /// Where the next follow read starts (nil from an agent that does not say).
        package var position: SiteLogPosition? = nil
        /// A follow read that could not go on from its position: lines may have been missed.
        package var gap = false

        package init(lines: [String], truncated: Bool, position: SiteLogPosition? = nil, gap: Bool = false) {
            self.lines = lines
            self.truncated = truncated
            self.position = position
            self.gap = gap
        }
    }

    package var succeeded: Bool
    package var siteLogs: SiteLogs? = nil
    package var message: String
    package var releasePath: String?
    package var releaseID: ReleaseID?
    package var backup: Backup?
    package var deletedBackupIDs: [BackupID]
    package var failedStep: String?

    package init(
        succeeded: Bool, message: String, releasePath: String? = nil, releaseID: ReleaseID? = nil,
        backup: Backup? = nil, deletedBackupIDs: [BackupID] = [], failedStep: String? = nil
    ) {
        self.succeeded = succeeded
        self.message = message
        self.releasePath = releasePath
        self.releaseID = releaseID
        self.backup = backup
        self.deletedBackupIDs = deletedBackupIDs
        self.failedStep = failedStep
    }

    /// A failure the coordinator records itself.
    package static func failure(_ message: String) -> TaskReport { TaskReport(succeeded: false, message: message) }

    /// The report as it is recorded: a backup (or a remove, which backs up first unless forced)
    /// that claims success without naming a stored archive is a failure, never a success.
    package func checked(for kind: TaskKindName, expectsBackup: Bool) -> TaskReport {
        guard succeeded, expectsBackup, kind == .backup || kind == .remove else { return self }
        guard let backup, backup.describesArchive else {
            var failed = self
            failed.succeeded = false
            failed.message = "the agent reported success but no stored archive (object key, size, SHA-256)"
            return failed
        }
        return self
    }
}
