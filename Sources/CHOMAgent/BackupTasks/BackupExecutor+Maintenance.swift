import CHOMBackup
import CHOMCore
package import CHOMProtocol
import Foundation
import NIOPosix

extension BackupExecutor {
    /// The verify drill: restore into a scratch directory, check every file against the
    /// manifest, delete the scratch directory. Success is the site's "last verified backup".
    package func verify(_ task: Chom_Agent_V1_VerifyBackupTask, progress: ProgressReporter) async -> ExecutionResult {
        let site: HostedSite
        do {
            site = try HostedSite(task.site)
            try BackupTargetKey.validate(task.objectKey)
        } catch {
            return ExecutionResult(outcome: .refused, message: "\(error)")
        }
        do {
            let work = try scratch("verify-\(task.backupID)")
            defer { try? FileManager.default.removeItem(at: work) }  // not a tenant path: the agent's work directory (root, 0700)
            let target = try storageTarget(task.source)
            let archive = work.appendingPathComponent("archive")
            try await target.get(key: task.objectKey, to: archive)
            let expected = BackupManifest.Archive(sha256: task.archiveSha256.lowercased(), byteCount: Self.size(of: archive))
            await progress("fetch", "\(expected.byteCount) bytes from \(task.objectKey)")
            let key = try encryptionKey(task.encryptionKey, id: task.encryptionKeyID)
            let report = try await NIOThreadPool.singleton.runIfActive {
                BackupVerifyDrill().run(archive: archive, expected: expected, key: key, scratchParent: work)
            }
            await progress("drill", "\(report.entriesChecked) entries checked")
            guard report.ok else {
                let why = report.failure.map { "\($0)" } ?? report.mismatches.prefix(5).map(\.description).joined(separator: "; ")
                return ExecutionResult(outcome: .failed, message: "verify drill of backup \(task.backupID) failed: \(why)")
            }
            let now = clock.now()
            metrics?.sites.backupVerified(site: site.domain, tenant: site.tenantID, at: now)
            var result = Chom_Agent_V1_TaskResult()
            result.backup.backupID = task.backupID
            result.backup.objectKey = task.objectKey
            result.backup.archiveSha256 = expected.sha256
            result.backup.sizeBytes = expected.byteCount
            result.backup.fileCount = UInt64(report.entriesChecked)
            result.backup.verifiedAtMs = now.unixMilliseconds
            return ExecutionResult(
                outcome: .succeeded,
                message: "backup \(task.backupID) verified: \(report.entriesChecked) entries match the manifest", report: result)
        } catch {
            return ExecutionResult(outcome: .failed, message: "verify drill of backup \(task.backupID) failed: \(error)")
        }
    }

    /// Deletes exactly the backups the coordinator names (it applied the retention rule), from a
    /// local-directory destination, and only inside this site's folder. Object storage is pruned
    /// by the coordinator itself: this agent cannot delete there.
    package func prune(_ task: Chom_Agent_V1_PruneBackupsTask, progress: ProgressReporter) async -> ExecutionResult {
        let folder: String
        do {
            let site = try HostedSite(task.site)
            folder = BackupObjectKey.siteFolder(tenantID: site.tenantID, domain: site.domain)
            guard case .local = task.destination.target else {
                throw CHOMError(.invalidInput, "only a local backup directory is pruned by the agent")
            }
            guard !task.delete.isEmpty || task.backups.isEmpty else {
                throw CHOMError(.invalidInput, "a prune names the backups to delete; this agent no longer applies retention rules")
            }
            for entry in task.delete {
                try BackupTargetKey.validate(entry.objectKey)
                guard entry.objectKey.hasPrefix(folder) else {
                    throw CHOMError(
                        .invalidInput,
                        "backup object \(BackupManifest.quote(entry.objectKey)) is not in this site's folder \(BackupManifest.quote(folder))")
                }
            }
        } catch {
            return ExecutionResult(outcome: .refused, message: "\(error)")
        }
        var deleted: [String] = []
        do {
            let target = try storageTarget(task.destination)
            for entry in task.delete {
                try await target.delete(key: entry.objectKey)
                deleted.append(entry.backupID)
            }
        } catch {
            var partial = Chom_Agent_V1_TaskResult()
            partial.deletedBackupIds = deleted
            return ExecutionResult(outcome: .failed, message: "pruning stopped after \(deleted.count) deletions: \(error)", report: partial)
        }
        await progress("prune", "deleted \(deleted.count) backups named by the coordinator")
        var result = Chom_Agent_V1_TaskResult()
        result.deletedBackupIds = deleted
        return ExecutionResult(outcome: .succeeded, message: "deleted \(deleted.count) backups", report: result)
    }

    /// Removes a site from this agent: a backup first unless `force`, then its server block,
    /// pool or process, user and tree.
    package func remove(_ task: Chom_Agent_V1_RemoveSiteTask, progress: ProgressReporter) async -> ExecutionResult {
        let site: HostedSite
        do {
            site = try HostedSite(task.site)
        } catch {
            return ExecutionResult(outcome: .refused, message: "\(error)")
        }
        let layout = SiteLayout(sitesRoot: sitesRoot, domain: site.domain)
        var result = Chom_Agent_V1_TaskResult()
        if !task.force, layout.currentRelease() != nil || layout.hasShared() {
            guard task.hasBackup else {
                return ExecutionResult(outcome: .refused, message: "removing \(site.domain) needs a backup destination, or force")
            }
            do {
                result.backup = try await makeBackup(task.backup, site: site, progress: progress)
            } catch {
                return ExecutionResult(outcome: .failed, message: "the site was kept: its backup before removal failed: \(error)")
            }
        }
        do {
            try await hosting?.remove(site, layout: layout)
            try layout.removeTree()
        } catch {
            return ExecutionResult(outcome: .failed, message: "removing \(site.domain) failed: \(error)", report: result)
        }
        await progress("remove", "server block, user and files of \(site.domain) removed")
        let backupNote = result.hasBackup ? " (backup \(result.backup.backupID) taken first)" : " (forced: no backup)"
        return ExecutionResult(outcome: .succeeded, message: "site \(site.domain) removed" + backupNote, report: result)
    }
}
