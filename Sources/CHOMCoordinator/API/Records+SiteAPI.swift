import CHOMAPI
import CHOMCore
import CHOMStore
import Foundation

extension SiteRecord {
    /// The site as answers show it: never the TLS private key (only whether one is stored shows,
    /// through the certificate).
    var api: SiteResponse {
        SiteResponse(
            id: id.description, tenantId: tenantID.description, domain: domain, agentId: agentID?.description,
            state: state.rawValue, currentReleaseId: currentReleaseID?.description, currentReleasePath: currentReleasePath,
            createdAt: createdAt, updatedAt: updatedAt, kind: spec.kind.rawValue, suspended: suspended,
            suspensionReasons: lifecycle.sortedSuspension.map(\.rawValue),
            config: SiteConfigResponse(
                aliases: spec.aliases, appPort: spec.appPort, appCommand: spec.appCommand, sharedPaths: spec.sharedPaths,
                hooks: spec.hooks.map { BuildHookBody(name: $0.name, command: $0.command, timeoutSeconds: $0.timeoutSeconds) },
                healthCheck: spec.healthCheck.map {
                    HealthCheckBody(path: $0.path, expectedStatus: $0.expectedStatus, timeoutMs: $0.timeoutMs)
                },
                publicDirectory: spec.publicDirectory, keepReleases: spec.keepReleases, tlsCertificate: tlsCertificate),
            lastBackupAt: lastBackupAt, lastVerifiedBackupAt: lastVerifiedBackupAt)
    }
}

extension BackupRecord {
    var api: BackupResponse {
        BackupResponse(
            id: id.description, siteId: siteID.description, agentId: agentID?.description, taskId: taskID?.description,
            state: state.rawValue, objectKey: objectKey, sizeBytes: sizeBytes, durationMs: durationMs,
            archiveSha256: archiveSHA256, fileCount: fileCount, encrypted: encrypted, createdAt: createdAt,
            finishedAt: finishedAt, verifiedAt: verifiedAt, deletedAt: deletedAt, message: message)
    }
}

extension BackupScheduleRecord {
    var api: BackupScheduleResponse {
        BackupScheduleResponse(
            siteId: siteID.description, enabled: true, everyHours: policy.everyHours, keepLast: policy.keepLast,
            keepDaily: policy.keepDaily, keepWeekly: policy.keepWeekly, keepMonthly: policy.keepMonthly,
            encrypt: policy.encrypt, nextRunAt: nextRunAt)
    }

    static func disabled(_ site: SiteID) -> BackupScheduleResponse {
        BackupScheduleResponse(
            siteId: site.description, enabled: false, everyHours: 0, keepLast: 0, keepDaily: 0, keepWeekly: 0,
            keepMonthly: 0, encrypt: true, nextRunAt: nil)
    }
}
