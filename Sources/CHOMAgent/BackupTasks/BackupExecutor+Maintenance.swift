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
            let target = try BackupDestinations.target(task.source, logger: logger)
            let archive = work.appendingPathComponent("archive")
            try await target.get(key: task.objectKey, to: archive)
            let expected = BackupManifest.Archive(sha256: task.archiveSha256.lowercased(), byteCount: Self.size(of: archive))
            let key = try encryptionKey(task.encryptionKey, id: task.encryptionKeyID)
            let report = try await NIOThreadPool.singleton.runIfActive {
                BackupVerifyDrill().run(archive: archive, expected: expected, key: key, scratchParent: work)
            }
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

    /// Deletes the backups the retention rule does not keep (never the newest verified one).
    package func prune(_ task: Chom_Agent_V1_PruneBackupsTask, progress: ProgressReporter) async -> ExecutionResult {
        let policy: RetentionPolicy
        do {
            _ = try HostedSite(task.site)
            policy = try RetentionPolicy(
                keepLast: Int(task.rule.keepLast), keepDaily: Int(task.rule.keepDaily),
                keepWeekly: Int(task.rule.keepWeekly), keepMonthly: Int(task.rule.keepMonthly))
            for entry in task.backups { try BackupTargetKey.validate(entry.objectKey) }
        } catch {
            return ExecutionResult(outcome: .refused, message: "\(error)")
        }
        let refs = task.backups.map {
            BackupRef(id: $0.backupID, createdAt: Date(unixMilliseconds: $0.createdAtMs), verified: $0.verified)
        }
        let decision = Retention.select(backups: refs, policy: policy)
        var deleted: [String] = []
        do {
            let target = try BackupDestinations.target(task.destination, logger: logger)
            for id in decision.prune {
                guard let entry = task.backups.first(where: { $0.backupID == id }) else { continue }
                try await target.delete(key: entry.objectKey)
                deleted.append(id)
            }
        } catch {
            var partial = Chom_Agent_V1_TaskResult()
            partial.deletedBackupIds = deleted
            return ExecutionResult(outcome: .failed, message: "pruning stopped after \(deleted.count) deletions: \(error)", report: partial)
        }
        await progress("prune", "kept \(decision.keep.count) (\(policy)), deleted \(deleted.count)")
        var result = Chom_Agent_V1_TaskResult()
        result.deletedBackupIds = deleted
        return ExecutionResult(
            outcome: .succeeded, message: "kept \(decision.keep.count) backups, deleted \(deleted.count)", report: result)
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
