import CHOMAudit
import CHOMCore
import CHOMScheduler
import CHOMStore
import Foundation

/// The leader's drain pass: every draining agent gets migrations for its sites, a few at a time
/// (`fleet.maxConcurrentMigrations` across the fleet, the scheduler choosing each target), and
/// becomes `drained` once it holds no site and no migration off it is open.
struct FleetDrain: Sendable {
    static let actor = "system:drain"

    let store: Store
    let configuration: CoordinatorConfiguration
    let clock: any WallClock
    let guardWrite: @Sendable (AuditedTransaction) async throws -> Void

    func tick() async throws {
        let draining = try await store.agents.list(scheduling: SchedulingState.draining.rawValue)
        for agent in draining {
            do {
                try await drain(agent)
            } catch is NothingToDo {
                continue
            }
        }
    }

    private func drain(_ agent: AgentRecord) async throws {
        let placement = FleetPlacement(store: store, configuration: configuration.fleet)
        let starter = MigrationStarter(store: store, configuration: configuration)
        let now = clock.now()
        try await store.write(now: now) { transaction in
            try await guardWrite(transaction)
            try await store.fleet.lockPlacement(in: transaction)
            var view = try await placement.view()
            let open = try await store.migrations.open()
            // A site whose move just failed waits `fleet.failedMoveRetrySeconds` before the drain
            // tries it again: a cause that persists (a target that cannot be reached) must not turn
            // into a migration every tick.
            let failed = try await store.migrations.recentlyFailed(
                since: now.addingTimeInterval(-configuration.fleet.failedMoveRetrySeconds))
            for index in view.sites.indices where failed.contains(view.sites[index].siteID) {
                view.sites[index].movable = false
            }
            let onAgent = view.sites.filter { $0.agentID == agent.id }
            if onAgent.isEmpty, !open.contains(where: { $0.fromAgent == agent.id }) {
                _ = try await store.fleet.setScheduling(agent.id, to: SchedulingState.drained.rawValue, in: transaction)
                try await transaction.record(AuditEntry(
                    time: now, actor: Self.actor, action: "agent.drained", target: "agent:\(agent.id)"))
                return
            }
            let plan = DrainPlanner(scheduler: placement.scheduler).plan(
                draining: agent.id, fleet: view.agents, sites: view.sites,
                maxConcurrent: configuration.fleet.maxConcurrentMigrations, inFlight: open.count)
            guard !plan.moves.isEmpty else {
                // Nothing to start this pass (the cap is reached, or no site can go anywhere): an
                // audit entry per tick would flood the log, so this transaction records nothing.
                throw NothingToDo()
            }
            for move in plan.moves {
                guard let site = try await store.sites(in: .fleet).get(move.siteID) else { continue }
                _ = try await starter.start(
                    site, to: move.to, reason: "drain", requestedBy: Self.actor,
                    audit: AuditEntry(
                        time: now, actor: Self.actor, tenantID: site.tenantID.description, action: "site.migration.start",
                        target: "site:\(site.id)", details: ["why": move.reason]),
                    view: view, in: transaction)
            }
        }
    }

    private struct NothingToDo: Error {}
}
