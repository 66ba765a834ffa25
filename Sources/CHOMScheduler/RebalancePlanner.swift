/// Proposes migrations that bring every agent under the utilization threshold, and under the
/// spread algorithm also even the fleet out. Pure: it works on a copy of the fleet, applying
/// each move it chooses before choosing the next.
///
/// The rules:
/// - An agent counts when it is online and schedulable or cordoned (draining agents belong to
///   `DrainPlanner`); its utilization is its peak over `policy.dimensions`.
/// - While an agent is above the threshold, the most utilized one gives up the site whose move
///   lowers the fleet's sum of squared utilizations most (the move that best evens out the pair,
///   so the fewest and smallest migrations bring it under), to an agent the scheduler finds
///   feasible and that stays at or below `threshold - hysteresis` after the move. Targets are
///   tried from the least utilized, `candidateLimit` feasible ones per site, as placement samples.
/// - When no agent is above the threshold and the fleet's algorithm is spread, the most
///   utilized agent gives up a site only if that lowers the fleet's spread (max − min
///   utilization) by at least `hysteresis`. Under binpack it does not: a fleet packed on
///   purpose is not uneven, and evening it out would fight the next placements.
/// - A site moved twice in one plan is one move, from its first agent to its last (and none if
///   it comes back). At most `maxMoves - inFlight` sites move. Sites not `movable` stay.
///
/// Each step lowers the sum of squares, so planning ends; and since a plan stops only when no
/// rule applies to the state it reached, the plan recomputed on that state is empty.
package struct RebalancePlanner: Sendable {
    package var scheduler: Scheduler
    package var policy: RebalancePolicy

    package init(scheduler: Scheduler = Scheduler(), policy: RebalancePolicy = .init()) {
        self.scheduler = scheduler
        self.policy = policy
    }

    package func plan(fleet: [AgentNode], sites: [PlacedSite], inFlight: Int = 0) -> [Move] {
        let budget = policy.maxMoves - inFlight
        guard budget > 0, !fleet.isEmpty, !sites.isEmpty else { return [] }
        var run = RebalanceRun(planner: self, model: FleetModel(fleet: fleet, sites: sites), budget: budget)
        run.plan()
        return run.moves()
    }
}
