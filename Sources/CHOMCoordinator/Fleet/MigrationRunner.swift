import CHOMAudit
import CHOMCore
import CHOMProtocol
import CHOMScheduler
import CHOMStore
import Foundation
import Logging
import PostgresNIO

/// The leader's loop that moves sites: each tick advances every open migration by what has happened
/// since the last one (a task finished, the target answered its health check, the DNS TTL passed)
/// through `MigrationLifecycle`, and carries out the actions it returns. Every state lives in
/// `site_migrations`, so a new leader picks up where the last one stopped.
struct MigrationRunner: Sendable {
    static let actor = "system:migrations"

    let store: Store
    let configuration: CoordinatorConfiguration
    let tasks: SiteTaskBuilder
    let connections: AgentConnections
    let probe: SiteHealthProbe
    let dns: SiteDNSUpdater?
    let metrics: CoordinatorMetrics
    let failoverReports: FailoverReports
    let clock: any WallClock
    let logger: Logger
    /// Runs first in every write the runner makes; the leader's epoch check (a stale leader's
    /// write is refused in the same transaction).
    let guardWrite: @Sendable (AuditedTransaction) async throws -> Void

    /// One pass over the open migrations, then the drains, then the failovers.
    func tick() async throws {
        for migration in try await store.migrations.open() {
            do {
                try await advance(migration)
            } catch {
                logger.warning(
                    "migration step failed; retried next tick",
                    metadata: ["chom.migration": "\(migration.id)", LogKey.error: "\(String(reflecting: error))"])
            }
        }
        try await FleetDrain(store: store, configuration: configuration, clock: clock, guardWrite: guardWrite).tick()
        try await FleetFailover(
            store: store, configuration: configuration, clock: clock, logger: logger, reported: failoverReports,
            guardWrite: guardWrite
        ).tick()
    }

    /// Advances one migration by the event that is due, if any.
    func advance(_ record: SiteMigrationRecord) async throws {
        let sites = store.sites(in: .fleet)
        guard let site = try await sites.get(record.siteID) else { return }
        var lifecycle = MigrationLifecycle(
            step: MigrationLifecycle.Step(rawValue: record.step) ?? .configure,
            finalPass: site.spec.kind != .static, failover: record.reason == FleetFailover.reason)
        let now = clock.now()
        var event: MigrationLifecycle.Event?
        // A failed agent answers no task: the move stops before its switch instead of waiting.
        if !lifecycle.switched, try await store.agents.get(record.toAgent)?.health == AgentHealth.offline.rawValue {
            event = .targetFailed
        } else if !lifecycle.switched, let source = try await store.agents.get(record.fromAgent)?.health,
            lifecycle.failover ? source == AgentHealth.online.rawValue : source == AgentHealth.offline.rawValue
        {
            event = lifecycle.failover ? .sourceRecovered : .sourceFailed
        } else if lifecycle.step == .done {
            // Switched and done, but the finish was not written (a leader stopped in between).
            var finished = MigrationLifecycle(step: .done, phase: .succeeded, finalPass: false, failover: lifecycle.failover)
            try await carryOut(.done, actions: [.finish(succeeded: true)], lifecycle: &finished, record, site)
            return
        } else if let taskID = record.taskID {
            guard let task = try await sites.task(taskID) else { return }
            switch task.state {
            case .succeeded: event = .taskSucceeded
            case .failed: event = .taskFailed("\(task.kind.rawValue) on agent \(task.agentID) failed: \(task.resultMessage ?? "")")
            case .queued, .sent, .accepted: return
            }
        } else {
            switch lifecycle.step {
            case .configure:
                event = .begin
            case .health:
                guard let agent = try await store.agents.get(record.toAgent) else { return }
                if let problem = await probe.check(site, on: agent) {
                    guard now.timeIntervalSince(record.updatedAt) >= configuration.fleet.healthTimeoutSeconds else { return }
                    event = .healthFailed(problem)
                } else {
                    event = .healthPassed
                }
            case .switchover:
                // A switch interrupted (a new leader, a failed write): carry it out again.
                try await carryOut(lifecycle.step, actions: [.switchPlacement], lifecycle: &lifecycle, record, site)
                return
            case .dnsWait:
                guard let switched = record.switchedAt,
                    now.timeIntervalSince(switched) >= configuration.fleet.proxySeconds
                else { return }
                event = .dnsExpired
            case .backup, .restore, .maintenance, .finalBackup, .finalRestore, .proxy, .cleanup, .done:
                return
            }
        }
        guard let event else { return }
        let before = lifecycle.step
        let actions = lifecycle.handle(event)
        try await carryOut(before, actions: actions, lifecycle: &lifecycle, record, site)
    }

    /// Carries out `actions` and stores the migration as `lifecycle` now says, in one transaction
    /// per action that writes.
    private func carryOut(
        _ from: MigrationLifecycle.Step, actions: [MigrationLifecycle.Action], lifecycle: inout MigrationLifecycle,
        _ original: SiteMigrationRecord, _ site: SiteRecord
    ) async throws {
        var record = original
        record.step = lifecycle.step.rawValue
        record.state = lifecycle.phase.rawValue
        record.failedStep = lifecycle.failedStep?.rawValue
        record.message = lifecycle.message
        record.taskID = nil
        record.updatedAt = clock.now()
        var pending = actions
        var wake: Set<AgentID> = []
        while !pending.isEmpty {
            let action = pending.removeFirst()
            switch action {
            case .configureTarget:
                record.taskID = try await enqueue(record, site, step: "configure", on: record.toAgent) { id in
                    try tasks.task(id: id, .configure, site: site, agent: record.toAgent) { message in
                        var configure = Chom_Agent_V1_ConfigureSiteTask()
                        configure.site = try tasks.siteConfig(site)
                        message.configure = configure
                    }
                }
                wake.insert(record.toAgent)
            case .backupSource:
                let (backup, task) = try await startBackup(record, site)
                record.backupID = backup
                record.taskID = task
                wake.insert(record.fromAgent)
            case .restoreTarget:
                record.taskID = try await restore(record, site)
                wake.insert(record.toAgent)
            case .probeTarget, .waitForDNS:
                try await save(record)
            case .maintenanceOnSource(let on):
                if on { record.maintenanceStartedAt = clock.now() } else { record.maintenanceEndedAt = clock.now() }
                var config = site
                config.suspended = on
                let taskID = try await enqueue(record, site, step: on ? "maintenance" : "maintenance_lifted", on: record.fromAgent) {
                    id in
                    try tasks.task(id: id, .suspend, site: site, agent: record.fromAgent) { message in
                        var suspend = Chom_Agent_V1_SuspendSiteTask()
                        suspend.site = try tasks.siteConfig(config)
                        suspend.suspended = on
                        message.suspend = suspend
                    }
                }
                if on { record.taskID = taskID }
                wake.insert(record.fromAgent)
            case .switchPlacement:
                do {
                    try await switchPlacement(&record, site, failover: lifecycle.failover)
                    pending.append(contentsOf: lifecycle.handle(.switched))
                    record.step = lifecycle.step.rawValue
                } catch {
                    pending.append(contentsOf: lifecycle.handle(.taskFailed("the switch failed: \(error)")))
                    record.state = lifecycle.phase.rawValue
                    record.failedStep = lifecycle.failedStep?.rawValue
                    record.message = lifecycle.message
                }
            case .forwardFromSource:
                guard let target = try await store.agents.get(record.toAgent) else { break }
                record.taskID = try await enqueue(record, site, step: "proxy", on: record.fromAgent) { id in
                    try tasks.task(id: id, .configure, site: site, agent: record.fromAgent) { message in
                        var configure = Chom_Agent_V1_ConfigureSiteTask()
                        configure.site = try tasks.siteConfig(site)
                        configure.site.forwardTo = MigrationForward.address(of: target)
                        message.configure = configure
                    }
                }
                if site.spec.kind != .static { record.maintenanceEndedAt = record.maintenanceEndedAt ?? clock.now() }
                wake.insert(record.fromAgent)
            case .removeFromSource, .removeFromTarget:
                let agent = action == .removeFromSource ? record.fromAgent : record.toAgent
                let taskID = try await enqueue(record, site, step: action == .removeFromSource ? "cleanup" : "cleanup_target", on: agent) {
                    id in
                    try tasks.task(id: id, .remove, site: site, agent: agent) { message in
                        var remove = Chom_Agent_V1_RemoveSiteTask()
                        remove.site = try tasks.siteConfig(site)
                        remove.force = true
                        message.remove = remove
                    }
                }
                if action == .removeFromSource { record.taskID = taskID }
                wake.insert(agent)
            case .finish(let succeeded):
                record.state = lifecycle.phase.rawValue
                record.step = lifecycle.step.rawValue
                record.finishedAt = clock.now()
                record.taskID = nil
                try await store.write(now: clock.now()) { transaction in
                    try await guardWrite(transaction)
                    // A failure before the switch settles the site on its old agent; after the switch
                    // (a cleanup that failed) it settled there already.
                    if !succeeded, record.switchedAt == nil {
                        _ = try await store.sites(in: .fleet).transition(
                            site,
                            lifecycle.failover ? .failoverFailed : .migrationFailed(step: record.failedStep ?? record.step),
                            now: clock.now(), in: transaction)
                    }
                    try await store.migrations.update(record, on: transaction.connection)
                    let noun = lifecycle.failover ? "failover" : "migration"
                    var details = succeeded ? [:] : ["failed_step": record.failedStep ?? "", "message": record.message]
                    if succeeded, let point = record.recoveryPointSeconds, let time = record.recoveryTimeSeconds {
                        details["recovery_point_seconds"] = String(format: "%.1f", point)
                        details["recovery_time_seconds"] = String(format: "%.1f", time)
                    }
                    try await transaction.record(audit(
                        succeeded ? "site.\(noun).succeeded" : "site.\(noun).failed", record, site, details: details))
                    // The site's organization is told, with the move (outbox).
                    try await NotificationWriter(connection: transaction.connection, logger: logger)
                        .enqueue(about: site.id, now: clock.now()) { [record] notice in
                            notice.moveDone(
                                failover: lifecycle.failover, succeeded: succeeded, migration: record.id.description,
                                failedStep: record.failedStep,
                                recoveryPointSeconds: record.recoveryPointSeconds,
                                recoveryTimeSeconds: record.recoveryTimeSeconds)
                        }
                }
                if lifecycle.failover {
                    metrics.failoverFinished(
                        succeeded: succeeded, recoveryTime: record.recoveryTimeSeconds,
                        recoveryPoint: record.recoveryPointSeconds)
                }
                logger.info(
                    succeeded ? "site \(lifecycle.failover ? "failed over" : "migrated")" : "site move failed",
                    metadata: ["chom.migration": "\(record.id)", LogKey.siteID: "\(site.id)"])
            }
        }
        for agent in wake { await connections.wake(agent) }
    }

    /// Inserts the task `make` builds and stores the migration pointing at it, in one transaction.
    private func enqueue(
        _ record: SiteMigrationRecord, _ site: SiteRecord, step: String, on agent: AgentID,
        _ make: (TaskID) throws -> NewTask
    ) async throws -> TaskID {
        let id = TaskID()
        let task = try make(id)
        var stored = record
        stored.taskID = id
        try await store.write(now: clock.now()) { transaction in
            try await guardWrite(transaction)
            try await store.sites(in: .fleet).enqueue(task, for: site, now: clock.now(), in: transaction)
            try await store.migrations.update(stored, on: transaction.connection)
            try await transaction.record(audit(
                "site.migration.step", record, site, details: ["step": step, "task": id.description, "agent": agent.description]))
        }
        return id
    }

    private func save(_ record: SiteMigrationRecord) async throws {
        try await store.client.withConnection { try await store.migrations.update(record, on: $0) }
    }

    /// A backup on the source through the usual backup path (its row, the tenant's key).
    private func startBackup(_ record: SiteMigrationRecord, _ site: SiteRecord) async throws -> (BackupID, TaskID) {
        var stored = record
        let target = SiteTaskTarget(
            site: site, agent: record.fromAgent,
            organization: try await store.organizations.tenant(site.tenantID)?.organizationID,
            scoped: store.sites(in: .fleet))
        let backup = try await BackupStarter(store: store, tasks: tasks).start(
            target, encrypt: true, audit: audit("site.migration.step", record, site, details: ["step": record.step])
        ) { transaction in
            try await guardWrite(transaction)
            return true
        } recorded: { transaction, backup in
            stored.backupID = backup.id
            stored.taskID = backup.taskID
            try await store.migrations.update(stored, on: transaction.connection)
        }
        guard let backup, let task = backup.taskID else { throw CHOMError(.internal, "the migration's backup was not started") }
        return (backup.id, task)
    }

    /// A restore on the target from this migration's last backup, as the restore route builds it.
    private func restore(_ record: SiteMigrationRecord, _ site: SiteRecord) async throws -> TaskID {
        guard let backupID = record.backupID,
            let backup = try await store.backups(in: .fleet).get(backupID, site: site.id), backup.isUsable
        else { throw CHOMError(.conflict, "the migration's backup is not usable") }
        var key = (bytes: Data(), id: "")
        if backup.encrypted {
            guard let stored = try await store.backups(in: .fleet).tenantKey(backup.tenantID) else {
                throw CHOMError(.integrity, "the tenant's backup key is missing")
            }
            key = (try tasks.openTenantKey(stored), stored.keyID)
        }
        let release = ReleaseID()
        return try await enqueue(record, site, step: "restore", on: record.toAgent) { id in
            // The release the restore makes is named in its result (`result_release_id`), as the
            // restore route's; `tasks.release_id` refers to an uploaded artifact, which it is not.
            try tasks.restore(id: id, site, onto: record.toAgent, backup: backup, key: key, release: release)
        }
    }

    /// Placement first (the site's agent, its live release from the last restore, its port claims),
    /// then DNS; audited.
    private func switchPlacement(_ record: inout SiteMigrationRecord, _ site: SiteRecord, failover: Bool) async throws {
        let now = clock.now()
        var stored = record
        stored.switchedAt = now
        stored.taskID = nil
        // A failover is done once switched (nothing follows on a failed source).
        stored.step = (failover ? MigrationLifecycle.Step.done : .proxy).rawValue
        try await store.write(now: now) { transaction in
            try await guardWrite(transaction)
            try await store.fleet.switchPlacement(site.id, to: record.toAgent, now: now, in: transaction)
            // The site settles (its `placeOn` is the placement just written; DNS follows below).
            _ = try await store.sites(in: .fleet).transition(
                site, failover ? .failoverSucceeded(on: record.toAgent) : .migrationSwitched(to: record.toAgent), now: now,
                in: transaction)
            try await store.migrations.update(stored, on: transaction.connection)
            try await transaction.record(audit(failover ? "site.failover.switch" : "site.migration.switch", record, site))
        }
        record.switchedAt = now
        if let dns {
            do {
                try await dns.siteMoved(site.id)
            } catch {
                logger.error(
                    "the DNS switch failed; DNS upkeep retries it",
                    metadata: [LogKey.siteID: "\(site.id)", LogKey.error: "\(error)"])
            }
        }
    }

    private func audit(
        _ action: String, _ record: SiteMigrationRecord, _ site: SiteRecord, details: [String: String] = [:]
    ) -> AuditEntry {
        // A failover's entries are the failover's: its actor, and `site.failover.*` for its steps.
        let failover = record.reason == FleetFailover.reason
        return AuditEntry(
            time: clock.now(), actor: failover ? FleetFailover.actor : Self.actor, tenantID: site.tenantID.description,
            action: failover ? action.replacingOccurrences(of: "site.migration.", with: "site.failover.") : action,
            target: "site:\(site.id)",
            details: details.merging([
                "migration": record.id.description, "from": record.fromAgent.description,
                "to": record.toAgent.description,
            ]) { first, _ in first })
    }
}

/// Where a migrated site's old agent forwards requests: the new agent's first public address and
/// its HTTP port.
enum MigrationForward {
    static func address(of agent: AgentRecord) -> String {
        guard let address = agent.publicAddresses.first else { return "" }
        let host = address.contains(":") ? "[\(address)]" : address
        return "\(host):\(agent.httpPort)"
    }
}
