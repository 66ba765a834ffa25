import CHOMAPI
import CHOMAudit
import CHOMCore
import CHOMScheduler
import CHOMStore
import Foundation
import Logging
import Synchronization

/// The leader's failover pass: every site still placed on an agent the failure detector declared
/// failed (`FailureDetection`) gets a failover (`MigrationStarter.startFailover`): restored from its
/// latest verified backup (else its latest succeeded one, marked unverified) on an agent the
/// scheduler chooses, then switched there (`MigrationRunner`), at most
/// `fleet.maxConcurrentFailovers` at once. A site already moving waits: the runner fails a move
/// whose source failed before its switch, and the site fails over on a later pass.
struct FleetFailover: Sendable {
    static let actor = "system:failover"
    static let reason = "failover"

    let store: Store
    let configuration: CoordinatorConfiguration
    let clock: any WallClock
    let logger: Logger
    /// Sites already reported as impossible to fail over (no backup, nowhere to go), so that the
    /// audit log gets one entry per site and failure, not one per pass.
    let reported: FailoverReports
    let guardWrite: @Sendable (AuditedTransaction) async throws -> Void

    func tick() async throws {
        guard configuration.fleet.failoverEnabled else { return }
        let failed = try await store.agentHealth(AgentHealth.offline.rawValue)
        guard !failed.isEmpty else { return }
        let placement = FleetPlacement(store: store, configuration: configuration.fleet)
        // A site whose failover just failed waits `fleet.failedMoveRetrySeconds`, as a drain's
        // moves do: a cause that persists must not open a failover every tick.
        let recentlyFailed = try await store.migrations.recentlyFailed(
            since: clock.now().addingTimeInterval(-configuration.fleet.failedMoveRetrySeconds), reason: Self.reason)
        for agent in failed {
            let record = try await store.agents.get(agent.id)
            let capabilities = record?.capabilities ?? []
            let unfenced = record?.unfencedSites ?? []
            let view = try await placement.view()
            let open = try await store.migrations.open()
            var running = open.filter { $0.reason == Self.reason }.count
            let moving = Set(open.map(\.siteID))
            for placed in view.sites
            where placed.agentID == agent.id && !moving.contains(placed.siteID) && !recentlyFailed.contains(placed.siteID) {
                guard running < max(1, configuration.fleet.maxConcurrentFailovers) else { return }
                guard let site = try await store.sites(in: .fleet).get(placed.siteID), !site.isRemoved else { continue }
                if let problem = FailoverEligibility.problem(
                    siteFailoverEnabled: site.failoverEnabled, agentCapabilities: capabilities,
                    siteUnfenced: unfenced.contains(site.id))
                {
                    try await reportImpossible(site, agent: agent, why: problem, detail: problem)
                    continue
                }
                let backups = try await store.backups(in: .fleet).list(site: site.id, limit: 200)
                guard let backup = FailoverBackup.choose(from: backups) else {
                    try await reportImpossible(site, agent: agent, why: "no usable backup", detail: "the site has no usable backup")
                    continue
                }
                do {
                    let started = try await start(site, backup: backup, agent: agent)
                    running += 1
                    if backup.verifiedAt == nil {
                        logger.warning(
                            "failing over from an unverified backup: no verified one exists",
                            metadata: [LogKey.siteID: "\(site.id)", "chom.backup": "\(backup.id)"])
                    }
                    logger.info(
                        "site failing over", metadata: [
                            LogKey.siteID: "\(site.id)", "chom.migration": "\(started.id)",
                            "chom.to": "\(started.toAgent)",
                        ])
                } catch let error as CHOMError where error.code == .conflict {
                    // The detail (scheduler reasons, the fleet's backup paths) is for operators'
                    // logs; the audit entry, which the tenant's admins read, says what kind of cause.
                    try await reportImpossible(site, agent: agent, why: "cannot be placed or restored", detail: error.message)
                }
            }
        }
    }

    private func start(_ site: SiteRecord, backup: BackupRecord, agent: AgentHealthRow) async throws -> SiteMigrationRecord {
        let now = clock.now()
        let placement = FleetPlacement(store: store, configuration: configuration.fleet)
        return try await store.write(now: now) { transaction in
            try await guardWrite(transaction)
            try await store.fleet.lockPlacement(in: transaction)
            let view = try await placement.view()
            return try await MigrationStarter(store: store, configuration: configuration).startFailover(
                site, from: backup, sourceFailedAt: agent.healthChangedAt ?? now, view: view, now: now,
                in: transaction)
        }
    }

    private func reportImpossible(_ site: SiteRecord, agent: AgentHealthRow, why: String, detail: String) async throws {
        let key = "\(site.id)/\(agent.id)/\(agent.healthChangedAt?.timeIntervalSince1970 ?? 0)"
        guard reported.firstTime(key) else { return }
        logger.error(
            "a site of a failed agent cannot fail over", metadata: [LogKey.siteID: "\(site.id)", LogKey.error: "\(detail)"])
        let now = clock.now()
        try await store.write(now: now) { transaction in
            try await guardWrite(transaction)
            try await transaction.record(AuditEntry(
                time: now, actor: Self.actor, tenantID: site.tenantID.description, action: "site.failover.impossible",
                target: "site:\(site.id)", details: ["agent": agent.id.description, "why": why]))
        }
    }
}

/// Which backup a failover restores: the latest verified one, else the latest succeeded one.
/// Only regular backups count (never a stale copy's).
enum FailoverBackup {
    static func choose(from backups: [BackupRecord]) -> BackupRecord? {
        let usable = backups.filter(\.isRestorable).sorted { ($0.finishedAt ?? $0.createdAt) > ($1.finishedAt ?? $1.createdAt) }
        return usable.first { $0.verifiedAt != nil } ?? usable.first
    }
}

/// What the failover pass has already reported, for the life of this replica.
final class FailoverReports: Sendable {
    private let keys = Mutex<Set<String>>([])

    func firstTime(_ key: String) -> Bool { keys.withLock { $0.insert(key).inserted } }
}

/// What a failover of an agent would do now (`GET /v1/agents/{agent}/failover-plan`, `chom fleet
/// failover --plan`): for each of its sites, the agent the scheduler would restore it on (the
/// sites placed one after another, as the drain planner does) and the backup it would use, or why
/// it would stay. Reads only.
struct FailoverPlanner: Sendable {
    let store: Store
    let configuration: CoordinatorConfiguration
    let clock: any WallClock

    func plan(for agent: AgentRecord) async throws -> FailoverPlanResponse {
        let placement = FleetPlacement(store: store, configuration: configuration.fleet)
        var view = try await placement.view()
        // As if it had failed: nothing goes onto it, and every one of its sites is planned.
        for index in view.agents.indices where view.agents[index].id == agent.id { view.agents[index].health = .offline }
        for index in view.sites.indices { view.sites[index].movable = true }
        let planned = DrainPlanner(scheduler: placement.scheduler).plan(
            draining: agent.id, fleet: view.agents, sites: view.sites, maxConcurrent: Int.max, inFlight: 0)
        let targets = Dictionary(planned.moves.map { ($0.siteID, $0.to) }, uniquingKeysWith: { first, _ in first })
        let names = Dictionary(view.agents.map { ($0.id, $0.name) }, uniquingKeysWith: { first, _ in first })
        let destinationProblem = MigrationStarter(store: store, configuration: configuration).destinationProblem
        let now = clock.now()
        var sites: [FailoverPlanSite] = []
        for placed in view.sites where placed.agentID == agent.id {
            guard let site = try await store.sites(in: .fleet).get(placed.siteID), !site.isRemoved else { continue }
            var item = FailoverPlanSite(siteId: site.id.description, domain: site.domain)
            if let target = targets[site.id] {
                item.toAgentId = target.description
                item.toAgentName = names[target]
            }
            let backups = try await store.backups(in: .fleet).list(site: site.id, limit: 200)
            if let backup = FailoverBackup.choose(from: backups) {
                item.backupId = backup.id.description
                item.backupVerified = backup.verifiedAt != nil
                item.recoveryPointSeconds = max(0, now.timeIntervalSince(backup.finishedAt ?? backup.createdAt))
            }
            item.failoverEnabled = site.failoverEnabled
            item.problem = FailoverEligibility.problem(
                siteFailoverEnabled: site.failoverEnabled, agentCapabilities: agent.capabilities,
                siteUnfenced: agent.unfencedSites.contains(site.id))
                ?? destinationProblem
                ?? (item.backupId == nil ? "the site has no usable backup" : nil)
                ?? planned.unplaceable[site.id].map { "no agent can take it: \($0.description)" }
            sites.append(item)
        }
        return FailoverPlanResponse(
            agentId: agent.id.description, agentName: agent.name, health: agent.health,
            failoverEnabled: configuration.fleet.failoverEnabled, sites: sites.sorted { $0.domain < $1.domain })
    }
}
