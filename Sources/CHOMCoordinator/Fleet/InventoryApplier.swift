import CHOMAudit
package import CHOMCore
package import CHOMProtocol
package import CHOMStore
package import Foundation
package import Logging

/// Answers an agent's inventory: records its (agent, sequence) once (`AgentReportRepository`),
/// reads the facts, asks `InventoryReconciler` for the difference and queues it — configures and
/// deploys through `SiteTaskBuilder`, a stale copy's removal after its `stale_copy` backup — in one
/// transaction, under a per-agent lock, audited `agent.reconcile` with the counts. An inventory
/// that changes nothing writes nothing but its sequence. Run by the replica holding the agent's
/// stream; the dedupe and the lock make several replicas safe.
package struct InventoryApplier: Sendable {
    static let actor = "system:reconcile"
    static let stream = "inventory"

    let store: Store
    let tasks: SiteTaskBuilder
    /// `reconcile.staleGraceSeconds`.
    let grace: TimeInterval
    let logger: Logger

    /// What one inventory led to.
    package struct Summary: Sendable, Equatable {
        package var admission: AgentReportRepository.Admission
        package var configures = 0
        package var deploys = 0
        package var removals = 0
        package var waits = 0
        /// Deploys that cannot be queued: the live release has no artifact here (a git checkout or a
        /// restored tree); the site's next deploy or restore repairs it.
        package var undeployable = 0
        /// Held sites the coordinator does not know.
        package var unknown = 0
        /// Held copies of sites placed on another agent that no open migration covers (a failed-over
        /// site on an agent that came back): until they are removed, the agent gets no site lease.
        package var staleCopies = 0

        package var queued: Int { configures + deploys + removals }
    }

    /// The applier of a coordinator with `configuration` (its key ring read from the configuration
    /// or key file): for tools and tests that feed an inventory without a stream.
    package static func make(store: Store, configuration: CoordinatorConfiguration, logger: Logger) throws -> InventoryApplier {
        let box = SecretBox(keyRing: try SecretKeys.load(configuration, createIfMissing: false))
        return InventoryApplier(
            store: store,
            tasks: SiteTaskBuilder(
                secretBox: box, backups: configuration.backups, maxAttempts: configuration.dispatch.maxDeliveryAttempts),
            grace: configuration.reconcile.staleGraceSeconds, logger: logger)
    }

    /// Applies `inventory` if its sequence is new, and wakes the agent's dispatcher when it queued work.
    @discardableResult
    func apply(
        _ inventory: Chom_Agent_V1_Inventory, from agent: AgentID, on connection: AgentConnection, now: Date
    ) async throws -> Summary {
        let summary = try await reconcile(inventory, from: agent, now: now)
        if summary.queued > 0 { connection.wake.signal() }
        return summary
    }

    /// Records the sequence and, for a fresh inventory, queues the difference.
    package func reconcile(_ inventory: Chom_Agent_V1_Inventory, from agent: AgentID, now: Date) async throws -> Summary {
        let reports = AgentReportRepository(client: store.client, logger: store.logger)
        let admission = try await reports.admit(
            agent: agent, stream: Self.stream, sequence: inventory.sequence, keepNewestOnly: true, now: now)
        var summary = Summary(admission: admission)
        guard admission == .fresh else {
            logger.debug("inventory ignored", metadata: [LogKey.agentID: "\(agent)", LogKey.state: "\(admission.rawValue)"])
            return summary
        }
        let inventories = InventoryRepository(client: store.client, logger: store.logger)
        var holds: [InventoryReconciler.Held] = []
        let byDomain = try await inventories.resolve(
            domains: inventory.sites.filter { SiteID($0.siteID) == nil }.map(\.domain).filter(DomainName.isValid),
            agent: agent)
        for site in inventory.sites.prefix(10_000) {
            guard let id = SiteID(site.siteID) ?? byDomain[site.domain] else {
                summary.unknown += 1
                continue
            }
            holds.append(InventoryReconciler.Held(
                siteID: id, releaseID: site.releaseID, configVersion: site.configVersion, suspended: site.suspended))
        }
        // Reported at version 0: configured by an agent older than the fence (or unknown). Such a
        // site fails over only once reconciliation has configured it again and an inventory says so.
        try await store.fleet.setUnfencedSites(agent, holds.filter { $0.configVersion == 0 }.map(\.siteID))
        let reconciler = InventoryReconciler(grace: grace)
        struct NothingToQueue: Error { let summary: Summary }
        do {
            return try await store.write(now: now) { [holds, summary] transaction in
                var summary = summary
                try await inventories.lock(agent, in: transaction)
                if try await reports.superseded(
                    agent: agent, stream: Self.stream, sequence: inventory.sequence, on: transaction.connection)
                {
                    summary.admission = .stale
                    throw NothingToQueue(summary: summary)
                }
                let facts = try await inventories.facts(agent: agent, reported: holds.map(\.siteID), in: transaction)
                let known = Set(facts.map(\.siteID))
                // Facts of sites placed elsewhere are only those the agent reported holding.
                // Only a copy of a site that failed over away from this agent keeps it fenced: that
                // copy may have diverged while the agent was cut off. A copy a move or a restore
                // elsewhere left behind is served until reconciliation removes it, as before.
                summary.staleCopies = facts.filter { $0.agentID != agent && !$0.migrating && $0.failedOverFrom }.count
                summary.unknown += holds.filter { !known.contains($0.siteID) }.count
                let actions = reconciler.reconcile(
                    holds: holds.filter { known.contains($0.siteID) },
                    placed: facts.filter { $0.agentID == agent }.map(Self.placed),
                    elsewhere: facts.filter { $0.agentID != agent }.map(Self.elsewhere), now: now)
                summary.waits = actions.filter(\.isWait).count
                let sites = Dictionary(uniqueKeysWithValues: facts.map { ($0.siteID, $0) })
                for action in actions where !action.isWait {
                    guard let site = try await store.sites(in: .fleet).get(action.siteID), sites[site.id] != nil else { continue }
                    try await queue(action, site: site, agent: agent, now: now, summary: &summary, in: transaction)
                }
                guard summary.queued > 0 else { throw NothingToQueue(summary: summary) }
                try await transaction.record(AuditEntry(
                    time: now, actor: Self.actor, action: "agent.reconcile", target: "agent:\(agent)",
                    details: [
                        "sequence": "\(inventory.sequence)", "held": "\(inventory.sites.count)",
                        "configure": "\(summary.configures)", "deploy": "\(summary.deploys)",
                        "remove_stale_copy": "\(summary.removals)", "wait": "\(summary.waits)",
                        "undeployable": "\(summary.undeployable)", "unknown": "\(summary.unknown)",
                    ]))
                return summary
            }
        } catch let nothing as NothingToQueue {
            return nothing.summary
        }
    }

    /// Builds and enqueues the task(s) of one action in the reconciliation's transaction.
    private func queue(
        _ action: InventoryReconciler.Action, site: SiteRecord, agent: AgentID, now: Date, summary: inout Summary,
        in transaction: AuditedTransaction
    ) async throws {
        let fleet = store.sites(in: .fleet)
        switch action {
        case .configure:
            let task = try tasks.task(.configure, site: site, agent: agent) { message in
                var configure = Chom_Agent_V1_ConfigureSiteTask()
                configure.site = try tasks.siteConfig(site)
                message.configure = configure
            }
            try await fleet.enqueue(task, for: site, now: now, in: transaction)
            summary.configures += 1
        case .deploy(_, let releaseID):
            guard let release = try await store.releases.get(releaseID), release.siteID == site.id else {
                summary.undeployable += 1
                return
            }
            var deploy = Chom_Agent_V1_DeployTask()
            deploy.siteID = site.id.description
            deploy.domain = site.domain
            deploy.releaseID = release.id.description
            deploy.artifactSha256 = release.sha256
            deploy.artifactSize = UInt64(max(0, release.sizeBytes))
            deploy.artifactFormat = release.format == "tar.gz" ? .tarGzip : .tarZstd
            deploy.keepReleases = UInt32(site.spec.keepReleases ?? 5)
            deploy.site = try tasks.siteConfig(site)
            let message = deploy
            let task = try tasks.task(.deploy, site: site, agent: agent, releaseID: release.id) { $0.deploy = message }
            try await fleet.enqueue(task, for: site, now: now, in: transaction)
            summary.deploys += 1
        case .removeStaleCopy:
            try await queueStaleCopyRemoval(site, agent: agent, now: now, in: transaction)
            summary.removals += 1
        case .wait:
            break
        }
    }

    /// The copy is backed up (encrypted, `purpose = stale_copy`) by the remove task itself, then
    /// removed; the site's state is not touched (`TaskResultRecorder` records only the backup).
    private func queueStaleCopyRemoval(
        _ site: SiteRecord, agent: AgentID, now: Date, in transaction: AuditedTransaction
    ) async throws {
        let backups = store.backups(in: .fleet)
        let taskID = TaskID()
        let backupID = BackupID()
        let key = try await backups.tenantKey(site.tenantID, in: transaction) { tasks.makeTenantKey(site.tenantID) }
        let backup = try tasks.backup(site, id: backupID, key: key)
        let task = try tasks.task(id: taskID, .remove, site: site, agent: agent, backupID: backupID) { message in
            var remove = Chom_Agent_V1_RemoveSiteTask()
            remove.site = backup.site
            remove.backup = backup
            message.remove = remove
        }
        var record = BackupRecord(
            id: backupID, siteID: site.id, tenantID: site.tenantID, agentID: agent, taskID: taskID, state: .queued,
            encrypted: true, createdAt: now)
        record.purpose = .staleCopy
        try await backups.start(record, task: task, now: now, in: transaction)
    }

    static func placed(_ facts: InventorySiteFacts) -> InventoryReconciler.Placed {
        InventoryReconciler.Placed(
            siteID: facts.siteID, state: SiteState(stored: facts.state), currentRelease: facts.currentReleaseID,
            configVersion: facts.configVersion, suspended: facts.suspended, hasTree: facts.hasTree,
            inFlight: facts.inFlight)
    }

    static func elsewhere(_ facts: InventorySiteFacts) -> InventoryReconciler.Elsewhere {
        InventoryReconciler.Elsewhere(
            siteID: facts.siteID, agent: facts.agentID, placedAt: facts.placedAt, inFlight: facts.inFlight)
    }
}
