import CHOMAudit
import CHOMCore
import CHOMProtocol
import CHOMStore
import Foundation
import Logging

/// The backup schedule loop: every `backups.scheduleIntervalSeconds`, enqueue the backups that are
/// due, and after a backup succeeds, a prune with the schedule's retention rule and the site's
/// backup list (which are verified). Each backup and prune is claimed with a conditional update in
/// its own transaction, so replicas running the loop at once never enqueue one twice.
struct BackupScheduler: Sendable {
    let store: Store
    let tasks: SiteTaskBuilder
    let connections: AgentConnections
    let logger: Logger

    static let actor = "system:backup-scheduler"

    /// One pass at `now`; returns how many backups and prunes were enqueued.
    @discardableResult
    func tick(now: Date) async throws -> (backups: Int, prunes: Int) {
        let fleet = store.sites(in: .fleet)
        var started = 0
        for schedule in try await store.backupSchedules.due(now: now) {
            guard let target = try await target(schedule.siteID, fleet) else { continue }
            let next = now.addingTimeInterval(Double(schedule.policy.everyHours) * 3600)
            let audit = AuditEntry(
                time: now, actor: Self.actor, organizationID: target.organization?.description,
                tenantID: target.site.tenantID.description, action: "backup.scheduled", target: "site:\(target.site.id)")
            let backup = try await BackupStarter(store: store, tasks: tasks).start(
                target, encrypt: schedule.policy.encrypt, audit: audit
            ) { transaction in
                try await store.backupSchedules.claim(schedule.siteID, dueBy: now, next: next, in: transaction)
            }
            if backup != nil {
                started += 1
                await connections.wake(target.agent)
            }
        }
        var prunes = 0
        for (schedule, latest) in try await store.backupSchedules.needingPrune() {
            guard let target = try await target(schedule.siteID, fleet) else { continue }
            if try await prune(target, schedule: schedule, through: latest, now: now) {
                prunes += 1
                await connections.wake(target.agent)
            }
        }
        return (started, prunes)
    }

    /// Runs `tick` every `interval` until cancelled; a failed pass is logged and retried next time.
    func run(every interval: Double, clock: any WallClock) async throws {
        while !Task.isCancelled {
            do {
                try await tick(now: clock.now())
            } catch {
                logger.warning("backup schedule pass failed", metadata: [LogKey.error: "\(error)"])
            }
            try await Task.sleep(for: .milliseconds(Int(max(1, interval) * 1000)))
        }
    }

    private func target(_ id: SiteID, _ fleet: ScopedSiteRepository) async throws -> SiteTaskTarget? {
        guard let site = try await fleet.get(id), let agent = site.agentID, !site.isRemoved else { return nil }
        return SiteTaskTarget(
            site: site, agent: agent, organization: try await store.organizations.tenant(site.tenantID)?.organizationID,
            scoped: fleet)
    }

    private func prune(_ target: SiteTaskTarget, schedule: BackupScheduleRecord, through latest: Date, now: Date)
        async throws -> Bool
    {
        let site = target.site
        let backups = try await store.backups(in: .fleet).list(site: site.id)
            .filter { $0.isUsable }
        var message = Chom_Agent_V1_PruneBackupsTask()
        message.site = try tasks.siteConfig(site)
        message.destination = try tasks.destination()
        message.rule.keepLast = UInt32(schedule.policy.keepLast)
        message.rule.keepDaily = UInt32(schedule.policy.keepDaily)
        message.rule.keepWeekly = UInt32(schedule.policy.keepWeekly)
        message.rule.keepMonthly = UInt32(schedule.policy.keepMonthly)
        message.backups = backups.map { backup in
            var entry = Chom_Agent_V1_BackupEntry()
            entry.backupID = backup.id.description
            entry.objectKey = backup.objectKey ?? ""
            entry.createdAtMs = Int64((backup.createdAt.timeIntervalSince1970 * 1000).rounded())
            entry.verified = backup.verifiedAt != nil
            return entry
        }
        let prune = message
        let task = try tasks.task(.pruneBackups, site: site, agent: target.agent) { $0.pruneBackups = prune }
        do {
            try await store.write(now: now) { transaction in
                // Another pass claimed it: roll back, nothing written.
                guard try await store.backupSchedules.claimPrune(site.id, through: latest, in: transaction) else {
                    throw Claimed()
                }
                try await target.scoped.enqueue(task, for: site, now: now, in: transaction)
                try await transaction.record(AuditEntry(
                    time: now, actor: Self.actor, organizationID: target.organization?.description,
                    tenantID: site.tenantID.description, action: "backup.prune", target: "site:\(site.id)",
                    details: ["task": task.id.description, "backups": "\(backups.count)"]))
            }
            return true
        } catch is Claimed {
            return false
        }
    }

    private struct Claimed: Error {}
}
