import CHOMAudit
import CHOMCore
import CHOMScheduler
import CHOMStore
import Foundation

/// Opens a site migration (the row the leader's `MigrationRunner` then advances), after the checks
/// that refuse a move up front with a clear problem: the site is placed and not removed, it has no
/// open migration, the target is another agent that can take it, and a backup destination exists
/// that both agents reach.
struct MigrationStarter: Sendable {
    let store: Store
    let configuration: CoordinatorConfiguration

    var placement: FleetPlacement { FleetPlacement(store: store, configuration: configuration.fleet) }

    /// Why no migration can run at all with this configuration, or nil.
    var destinationProblem: String? {
        if configuration.backups.destination.s3 != nil || configuration.fleet.sharedBackupDirectory { return nil }
        return """
            a migration copies the site through a backup both agents reach: configure backups.destination.s3, or set \
            fleet.sharedBackupDirectory when backups.destination.path (\(configuration.backups.destination.path)) is \
            the same shared directory on every agent
            """
    }

    /// Starts moving `site` to `target` (nil: the scheduler chooses), recording `audit` with the
    /// migration's id. In `transaction`, which holds the placement lock.
    func start(
        _ site: SiteRecord, to target: AgentID?, reason: String, requestedBy: String, audit: AuditEntry,
        view: FleetView, in transaction: AuditedTransaction
    ) async throws -> SiteMigrationRecord {
        if let problem = destinationProblem { throw CHOMError(.conflict, problem) }
        guard !site.isRemoved else { throw CHOMError(.conflict, "site \(site.domain) is \(site.state)") }
        guard let source = site.agentID else { throw CHOMError(.conflict, "site \(site.domain) is not placed on an agent") }
        let destination: AgentID
        if let target {
            guard target != source else { throw CHOMError(.conflict, "site \(site.domain) is already on that agent") }
            guard let node = view.agents.first(where: { $0.id == target }) else {
                throw CHOMError(.invalidInput, "agentId names no agent")
            }
            let demand = SiteDemand(
                siteID: site.id, tenantID: site.tenantID, kind: site.spec.kind, requests: requests(of: site, in: view))
            let reasons = placement.scheduler.feasibility(of: demand, on: node)
            guard reasons.isEmpty else {
                throw CHOMError(.conflict, """
                    agent \(node.name) cannot take site \(site.domain): \(reasons.map(\.description).joined(separator: ", "))
                    """)
            }
            destination = target
        } else {
            destination = try placement.place(
                site: site.id, tenant: site.tenantID, kind: site.spec.kind, requests: requests(of: site, in: view),
                excluding: [source], in: view)
        }
        let migration = SiteMigrationRecord(
            id: MigrationID(), siteID: site.id, fromAgent: source, toAgent: destination, reason: reason,
            state: MigrationLifecycle.Phase.running.rawValue, step: MigrationLifecycle.Step.configure.rawValue,
            requestedBy: requestedBy, now: audit.time)
        // The site's lifecycle first: a site deploying, removed or already moving takes no migration.
        _ = try await store.sites(in: .fleet).transition(
            site, .migrationStarted(to: destination), now: audit.time, in: transaction)
        try await store.migrations.create(migration, in: transaction)
        try await store.sites(in: .fleet).claimForRestore(site, onto: destination, in: transaction)
        var entry = audit
        entry.details["migration"] = migration.id.description
        entry.details["from"] = source.description
        entry.details["to"] = destination.description
        entry.details["reason"] = reason
        try await transaction.record(entry)
        return migration
    }

    /// Opens the failover of `site`, whose agent was declared failed at `sourceFailedAt`: a
    /// migration with reason `failover` that restores `backup` on an agent the scheduler chooses.
    /// In `transaction`, which holds the placement lock.
    func startFailover(
        _ site: SiteRecord, from backup: BackupRecord, sourceFailedAt: Date, view: FleetView, now: Date,
        in transaction: AuditedTransaction
    ) async throws -> SiteMigrationRecord {
        if let problem = destinationProblem { throw CHOMError(.conflict, problem) }
        guard !site.isRemoved, let source = site.agentID else {
            throw CHOMError(.conflict, "site \(site.domain) is not placed on an agent")
        }
        let destination = try placement.place(
            site: site.id, tenant: site.tenantID, kind: site.spec.kind, requests: requests(of: site, in: view),
            excluding: [source], in: view)
        var migration = SiteMigrationRecord(
            id: MigrationID(), siteID: site.id, fromAgent: source, toAgent: destination,
            reason: FleetFailover.reason, state: MigrationLifecycle.Phase.running.rawValue,
            step: MigrationLifecycle.Step.configure.rawValue, requestedBy: FleetFailover.actor, now: now)
        migration.backupID = backup.id
        migration.sourceFailedAt = sourceFailedAt
        migration.backupTakenAt = backup.finishedAt ?? backup.createdAt
        migration.backupVerified = backup.verifiedAt != nil
        _ = try await store.sites(in: .fleet).transition(
            site, .failoverStarted(to: destination), now: now, in: transaction)
        try await store.migrations.create(migration, in: transaction)
        try await store.sites(in: .fleet).claimForRestore(site, onto: destination, in: transaction)
        try await transaction.record(AuditEntry(
            time: now, actor: FleetFailover.actor, tenantID: site.tenantID.description, action: "site.failover.start",
            target: "site:\(site.id)",
            details: [
                "migration": migration.id.description, "from": source.description, "to": destination.description,
                "backup": backup.id.description, "backup_verified": String(backup.verifiedAt != nil),
                "recovery_point_seconds": String(format: "%.0f", migration.recoveryPointSeconds ?? 0),
            ]))
        return migration
    }

    /// What the site requests as the fleet counts it (its own override, else its kind's default).
    private func requests(of site: SiteRecord, in view: FleetView) -> Resources {
        view.sites.first { $0.siteID == site.id }?.requests
            ?? configuration.fleet.siteRequests.requests(for: site.spec.kind)
    }
}
