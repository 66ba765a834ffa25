import CHOMAPI
import CHOMCore
import CHOMScheduler
import CHOMStore

/// The rebalance planner over the stored fleet. Moves are planned on what sites request, bounded by
/// `fleet.rebalance.maxMoves` minus the migrations already open, with the planner's hysteresis.
struct FleetRebalance: Sendable {
    let store: Store
    let configuration: CoordinatorConfiguration

    func plan(_ view: FleetView) -> [Move] {
        let scheduler = Scheduler(policy: configuration.fleet.scheduler)
        return RebalancePlanner(scheduler: scheduler, policy: configuration.fleet.rebalance)
            .plan(fleet: view.agents, sites: view.sites, inFlight: view.openMigrations)
    }

    func describe(_ moves: [Move], view: FleetView) async throws -> [PlannedMove] {
        moves.map {
            PlannedMove(
                siteId: $0.siteID.description, domain: view.domains[$0.siteID] ?? "", fromAgentId: $0.from.description,
                fromAgentName: view.name($0.from), toAgentId: $0.to.description, toAgentName: view.name($0.to),
                reason: $0.reason)
        }
    }
}
