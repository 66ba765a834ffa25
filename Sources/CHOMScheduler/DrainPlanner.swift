package import CHOMCore

/// Chooses where each site of a draining agent goes, a few at a time: the caller cordons the
/// agent (scheduling `.draining`), runs the moves, and asks again until the agent holds no site.
package struct DrainPlanner: Sendable {
    package var scheduler: Scheduler

    package init(scheduler: Scheduler = Scheduler()) { self.scheduler = scheduler }

    /// Up to `maxConcurrent - inFlight` moves off `draining`, largest sites first (the hardest
    /// to fit, while there is most room), each placed by the scheduler on the fleet as the moves
    /// before it leave it. Sites not `movable` (already migrating) are skipped. `unplaceable`
    /// holds every site that no agent can take, with the reasons, including sites beyond this
    /// round's budget (checked against the fleet as this round leaves it).
    package func plan(
        draining: AgentID, fleet: [AgentNode], sites: [PlacedSite], maxConcurrent: Int, inFlight: Int
    ) -> (moves: [Move], unplaceable: [SiteID: PlacementRefusal]) {
        // Only the draining agent's sites move: the others need no index.
        var model = FleetModel(fleet: fleet, sites: sites.filter { $0.agentID == draining })
        guard let source = model.index(of: draining) else { return ([], [:]) }
        let budget = maxConcurrent - inFlight
        let sourceName = model.agents[source].name
        let state = model.agents[source].scheduling.rawValue
        let candidates = model.sitesOf[source].filter { model.sites[$0].movable }.sorted { a, b in
            let x = model.sites[a].requests, y = model.sites[b].requests
            if x.diskBytes != y.diskBytes { return x.diskBytes > y.diskBytes }
            if x.memoryBytes != y.memoryBytes { return x.memoryBytes > y.memoryBytes }
            if x.cpuMillis != y.cpuMillis { return x.cpuMillis > y.cpuMillis }
            return StableKey.less(model.sites[a].siteID, model.sites[b].siteID)
        }
        var moves: [Move] = []
        var unplaceable: [SiteID: PlacementRefusal] = [:]
        for site in candidates {
            let demand = model.sites[site].demand
            switch scheduler.place(demand, on: model.agents, excluding: [draining]) {
            case .failure(let refusal):
                unplaceable[demand.siteID] = refusal
            case .success(let choice):
                guard moves.count < budget, let target = model.index(of: choice.agentID) else { continue }
                model.move(site: site, to: target)
                moves.append(Move(
                    siteID: demand.siteID, tenantID: demand.tenantID, from: draining, to: choice.agentID,
                    reason: "\(sourceName) \(state) → \(model.agents[target].name), score \(hundredths(choice.score))"))
            }
        }
        return (moves, unplaceable)
    }

    private func hundredths(_ value: Double) -> String {
        let scaled = Int((value * 100).rounded())
        let sign = scaled < 0 ? "-" : ""
        let magnitude = abs(scaled)
        let fraction = magnitude % 100
        return "\(sign)\(magnitude / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }
}
