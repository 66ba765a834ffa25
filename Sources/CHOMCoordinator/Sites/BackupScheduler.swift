import CHOMAudit
import CHOMBackup
import CHOMCore
import CHOMProtocol
import CHOMStore
import Foundation
import Logging

/// The backup schedule, a leader loop (`HousekeepingLoops`): every `backups.scheduleIntervalSeconds`,
/// enqueue the backups that are due, and after a backup succeeds, a prune with the schedule's
/// retention rule and the site's backup list (which are verified). Each backup and prune is claimed
/// with a conditional update in its own transaction, which also checks the leader's epoch: an
/// ex-leader that has not noticed yet writes nothing, and no run is ever enqueued twice.
struct BackupScheduler: Sendable {
    let store: Store
    let tasks: SiteTaskBuilder
    let connections: AgentConnections
    let logger: Logger
    /// The storage quota: over the plan's hard limit, a due backup is not started (nil: unchecked).
    var quotas: BillingQuotas? = nil

    static let actor = "system:backup-scheduler"

    /// One pass at `now`, as the leader of `epoch` (nil: unchecked, for tests of the pass itself);
    /// returns how many backups and prunes were enqueued.
    @discardableResult
    func tick(now: Date, epoch: Int64? = nil) async throws -> (backups: Int, prunes: Int) {
        let fleet = store.sites(in: .fleet)
        var started = 0
        for schedule in try await store.backupSchedules.due(now: now) {
            guard let target = try await target(schedule.siteID, fleet) else { continue }
            let next = now.addingTimeInterval(Double(schedule.policy.everyHours) * 3600)
            let audit = AuditEntry(
                time: now, actor: Self.actor, organizationID: target.organization?.description,
                tenantID: target.site.tenantID.description, action: "backup.scheduled", target: "site:\(target.site.id)")
            let backup: BackupRecord?
            do {
                backup = try await BackupStarter(store: store, tasks: tasks).start(
                    target, encrypt: schedule.policy.encrypt, audit: audit
                ) { transaction in
                    if let epoch { try await store.leadership.checkEpoch(epoch, in: transaction) }
                    if let quotas, let organization = target.organization {
                        try await quotas.check(.storage, organization: organization, now: now, in: transaction)
                    }
                    return try await store.backupSchedules.claim(schedule.siteID, dueBy: now, next: next, in: transaction)
                }
            } catch let error as CHOMError where error.code == .conflict {
                // The site moved or was reconfigured since it was read: nothing was written, the
                // schedule stays due, and the next pass starts it from the site as it is then.
                logger.info("scheduled backup deferred", metadata: [LogKey.siteID: "\(target.site.id)", LogKey.error: "\(error.message)"])
                continue
            } catch let exceeded as QuotaExceeded {
                // Nothing was written and the schedule stays due: it starts once usage is back
                // under the limit (a backup deleted, a larger plan).
                logger.warning("scheduled backup refused", metadata: [LogKey.siteID: "\(target.site.id)", LogKey.error: "\(exceeded)"])
                continue
            }
            if backup != nil {
                started += 1
                await connections.wake(target.agent)
            }
        }
        var prunes = 0
        for (schedule, latest) in try await store.backupSchedules.needingPrune() {
            guard let target = try await target(schedule.siteID, fleet) else { continue }
            if try await prune(target, schedule: schedule, through: latest, now: now, epoch: epoch) {
                prunes += 1
                await connections.wake(target.agent)
            }
        }
        return (started, prunes)
    }

    private func target(_ id: SiteID, _ fleet: ScopedSiteRepository) async throws -> SiteTaskTarget? {
        // Not while the site is removed or moving (`SiteState.takesScheduledBackups`): the schedule
        // stays due and catches up once the site is settled.
        guard let site = try await fleet.get(id), let agent = site.agentID, site.state.takesScheduledBackups else {
            return nil
        }
        return SiteTaskTarget(
            site: site, agent: agent, organization: try await store.organizations.tenant(site.tenantID)?.organizationID,
            scoped: fleet)
    }

    /// Applies the schedule's retention rule here (never deleting the newest verified backup).
    /// In object storage the coordinator deletes the objects itself, each then marked deleted;
    /// with local directories a prune task names exactly the backups the agent deletes. Either way
    /// the prune is claimed first, so replicas never prune a site twice for one backup.
    private func prune(
        _ target: SiteTaskTarget, schedule: BackupScheduleRecord, through latest: Date, now: Date, epoch: Int64?
    ) async throws -> Bool {
        let site = target.site
        let backups = try await store.backups(in: .fleet).list(site: site.id).filter { $0.isRestorable }
        let policy = try RetentionPolicy(
            keepLast: schedule.policy.keepLast, keepDaily: schedule.policy.keepDaily,
            keepWeekly: schedule.policy.keepWeekly, keepMonthly: schedule.policy.keepMonthly)
        let decision = Retention.select(
            backups: backups.map {
                BackupRef(id: $0.id.description, createdAt: $0.createdAt, verified: $0.verifiedAt != nil)
            },
            policy: policy)
        let doomed = decision.prune.compactMap { id in backups.first { $0.id.description == id } }
        let storage = tasks.storage
        var task: NewTask?
        if !doomed.isEmpty, !storage.isObjectStorage {
            var message = Chom_Agent_V1_PruneBackupsTask()
            message.site = try tasks.siteConfig(site)
            message.destination = storage.destination(objectKey: "")
            message.delete = doomed.map { backup in
                var entry = Chom_Agent_V1_BackupEntry()
                entry.backupID = backup.id.description
                entry.objectKey = backup.objectKey ?? ""
                entry.createdAtMs = Int64((backup.createdAt.timeIntervalSince1970 * 1000).rounded())
                entry.verified = backup.verifiedAt != nil
                return entry
            }
            let prune = message
            task = try tasks.task(.pruneBackups, site: site, agent: target.agent) { $0.pruneBackups = prune }
        }
        do {
            try await store.write(now: now) { [task] transaction in
                if let epoch { try await store.leadership.checkEpoch(epoch, in: transaction) }
                // Another pass claimed it: roll back, nothing written.
                guard try await store.backupSchedules.claimPrune(site.id, through: latest, in: transaction) else {
                    throw Claimed()
                }
                if let task {
                    // Built from `site`: not sent to an agent that let it go since it was read.
                    try await target.scoped.requireUnchanged(site, in: transaction)
                    try await target.scoped.enqueue(task, for: site, now: now, in: transaction)
                }
                var details = ["kept": "\(decision.keep.count)", "deleting": "\(doomed.count)"]
                if let task { details["task"] = task.id.description }
                try await transaction.record(AuditEntry(
                    time: now, actor: Self.actor, organizationID: target.organization?.description,
                    tenantID: site.tenantID.description, action: "backup.prune", target: "site:\(site.id)",
                    details: details))
            }
        } catch is Claimed {
            return false
        } catch let error as CHOMError where error.code == .conflict {
            // Nothing written: the prune stays due and the next pass builds it from the site as it is.
            logger.info("backup prune deferred", metadata: [LogKey.siteID: "\(site.id)", LogKey.error: "\(error.message)"])
            return false
        }
        if storage.isObjectStorage, !doomed.isEmpty {
            try await deleteObjects(doomed, of: target, storage: storage, now: now, epoch: epoch)
        }
        return task != nil
    }

    /// Deletes each pruned backup's object, then marks it deleted. A failure stops the pass: the
    /// backups not yet deleted stay usable and are pruned again after the next backup.
    private func deleteObjects(
        _ doomed: [BackupRecord], of target: SiteTaskTarget, storage: BackupStorage, now: Date, epoch: Int64?
    ) async throws {
        guard let bucket = try storage.target() else { return }
        var deleted: [BackupID] = []
        var failure: (any Error)?
        for backup in doomed {
            do {
                if let key = backup.objectKey, !key.isEmpty { try await bucket.delete(key: key) }
                deleted.append(backup.id)
            } catch {
                failure = error
                break
            }
        }
        let site = target.site
        try await store.write(now: now) { [deleted] transaction in
            if let epoch { try await store.leadership.checkEpoch(epoch, in: transaction) }
            try await store.backups(in: .fleet).markDeleted(deleted, site: site.id, now: now, in: transaction)
            var details = ["deleted": "\(deleted.count)", "of": "\(doomed.count)"]
            if let failure { details["error"] = String("\(failure)".prefix(300)) }
            try await transaction.record(AuditEntry(
                time: now, actor: Self.actor, organizationID: target.organization?.description,
                tenantID: site.tenantID.description, action: "backup.prune.deleted", target: "site:\(site.id)",
                details: details))
        }
        if let failure {
            logger.warning(
                "pruning object storage stopped", metadata: [LogKey.siteID: "\(site.id)", LogKey.error: "\(failure)"])
        }
    }

    private struct Claimed: Error {}
}
