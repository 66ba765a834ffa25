import CHOMCore
import CHOMProtocol
import CHOMStore
import Foundation

extension TaskReport {
    /// An agent's `TaskResult` as the store records it, every text bounded. Ids that are not
    /// UUIDs are dropped; the store applies them only to the task's own site.
    init(_ result: Chom_Agent_V1_TaskResult) {
        var backup: Backup?
        if result.hasBackup {
            let report = result.backup
            backup = Backup(
                objectKey: String(report.objectKey.prefix(1024)), sizeBytes: Int64(clamping: report.sizeBytes),
                durationMs: Int64(clamping: report.durationMs), archiveSHA256: String(report.archiveSha256.prefix(64)),
                fileCount: Int64(clamping: report.fileCount), encrypted: report.encrypted,
                verifiedAt: report.verifiedAtMs > 0 ? Date(timeIntervalSince1970: Double(report.verifiedAtMs) / 1000) : nil)
        }
        self.init(
            succeeded: result.outcome == .succeeded, message: String(result.message.prefix(4096)),
            releasePath: result.releasePath.isEmpty ? nil : String(result.releasePath.prefix(1024)),
            releaseID: ReleaseID(result.releaseID), backup: backup,
            deletedBackupIDs: result.deletedBackupIds.prefix(10_000).compactMap { BackupID($0) },
            failedStep: result.failedStep.isEmpty ? nil : String(result.failedStep.prefix(64)))
        if result.hasSiteLogs {
            siteLogs = SiteLogs(
                lines: result.siteLogs.lines.prefix(1000).map { String($0.prefix(16 << 10)) },
                truncated: result.siteLogs.truncated,
                position: result.siteLogs.hasPosition ? result.siteLogs.position.position : nil,
                gap: result.siteLogs.gap)
        }
    }
}
