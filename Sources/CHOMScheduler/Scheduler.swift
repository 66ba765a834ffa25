package import CHOMCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Chooses an agent for a site, as Nomad does: feasibility filters first (online, schedulable,
/// label constraints, the site's kind, room on every dimension), then a score among the
/// feasible agents (binpack or spread, minus tenant anti-affinity). Pure and deterministic: the
/// same site and fleet give the same agent, and ties go to the smaller agent id.
///
/// `place` samples: it visits the agents in an order derived from the site id and stops after
/// `candidateLimit` feasible ones, so its cost does not grow with the fleet. The order follows
/// the positions in `fleet`, so callers pass the fleet in a stable order (by agent id). Only
/// when no agent is feasible does it visit them all, to give every agent's reasons.
package struct Scheduler: Sendable {
    package var policy: SchedulerPolicy

    package init(policy: SchedulerPolicy = .init()) { self.policy = policy }

    package func place(
        _ site: SiteDemand, on fleet: [AgentNode], excluding: Set<AgentID> = []
    ) -> Result<PlacementChoice, PlacementRefusal> {
        search(site, fleet, excluding, limit: max(1, policy.candidateLimit))
    }

    /// Scores every feasible agent: the best choice there is, for the benchmark and as the
    /// oracle of the sampled one. The result does not depend on the order of `fleet`.
    package func placeFullScan(
        _ site: SiteDemand, on fleet: [AgentNode], excluding: Set<AgentID> = []
    ) -> Result<PlacementChoice, PlacementRefusal> {
        search(site, fleet, excluding, limit: Int.max)
    }

    /// Every reason the agent cannot take the site, in a fixed order; empty when it can.
    package func feasibility(of site: SiteDemand, on agent: AgentNode) -> [InfeasibleReason] {
        var reasons: [InfeasibleReason] = []
        if agent.health != .online { reasons.append(.health(agent.health)) }
        if agent.scheduling != .schedulable { reasons.append(.scheduling(agent.scheduling)) }
        for constraint in site.constraints where !constraint.matches(agent.labels) {
            reasons.append(.label(constraint.key))
        }
        if !agent.supports(site.kind) { reasons.append(.kind(site.kind)) }
        for dimension in ResourceDimension.allCases where !fits(site.requests, agent, dimension) {
            reasons.append(.insufficient(dimension))
        }
        return reasons
    }

    /// The score of placing the site on a feasible agent: higher is better. The fit (0 for an
    /// empty agent under binpack or a full one under spread, 1 for the opposite) less the
    /// tenant's anti-affinity penalty.
    package func score(of site: SiteDemand, on agent: AgentNode) -> Double {
        withUnsafePointer(to: agent) { fit(site, $0) - penalty(site, $0) }
    }

    /// Reads the agent in place: copying an `AgentNode` retains its four tables, which costs
    /// more than the score itself.
    func fit(_ site: SiteDemand, _ agent: UnsafePointer<AgentNode>) -> Double {
        let keep = 1 - policy.reserveFraction
        let used = agent.pointee.used, capacity = agent.pointee.capacity, requests = site.requests
        let binpack = policy.algorithm == .binpack
        var total = 0.0
        var dimensions = 0.0
        func add(_ after: Int64, _ allocatable: Double) {
            guard allocatable > 0 else { return }
            // Nomad's BestFit v3 per dimension: 10^free is 10 when empty and 1 when full, so
            // one dimension near full weighs more than several half-used ones.
            let free = 1 - min(max(Double(after) / allocatable, 0), 1)
            let exponential = exp(Self.ln10 * free)
            total += binpack ? (10 - exponential) / 9 : (exponential - 1) / 9
            dimensions += 1
        }
        add(used.cpuMillis + requests.cpuMillis, Double(capacity.cpuMillis) * keep)
        add(used.memoryBytes + requests.memoryBytes, Double(capacity.memoryBytes) * keep)
        add(used.diskBytes + requests.diskBytes, Double(capacity.diskBytes) * keep)
        add(used.sites + requests.sites, Double(capacity.sites))
        return dimensions > 0 ? total / dimensions : 0
    }

    func penalty(_ site: SiteDemand, _ agent: UnsafePointer<AgentNode>) -> Double {
        guard policy.tenantAntiAffinityWeight != 0, !agent.pointee.tenantSites.isEmpty else { return 0 }
        return policy.tenantAntiAffinityWeight * Double(agent.pointee.tenantSites[site.tenantID] ?? 0)
    }

    private static let ln10 = 2.302585092994046
    private static let block = 32

    /// The allocation check on its own, without building reasons: the placement loop's filter,
    /// cheapest and most selective checks first (the agent's inline fields before its tables).
    func isFeasible(_ site: SiteDemand, _ agent: AgentNode, _ excluding: Set<AgentID>) -> Bool {
        withUnsafePointer(to: agent) { isFeasible(site, $0, excluding) }
    }

    func isFeasible(_ site: SiteDemand, _ agent: UnsafePointer<AgentNode>, _ excluding: Set<AgentID>) -> Bool {
        hasRoom(site, agent) && meetsTheRest(site, agent, excluding)
    }

    /// State and room: the agent's inline fields only, so that a block of agents can be
    /// checked with their memory fetched in parallel.
    private func hasRoom(_ site: SiteDemand, _ agent: UnsafePointer<AgentNode>) -> Bool {
        let keep = 1 - policy.reserveFraction
        let used = agent.pointee.used, requests = site.requests, capacity = agent.pointee.capacity
        return agent.pointee.health == .online && agent.pointee.scheduling == .schedulable
            && fits(used.cpuMillis + requests.cpuMillis, Double(capacity.cpuMillis) * keep)
            && fits(used.memoryBytes + requests.memoryBytes, Double(capacity.memoryBytes) * keep)
            && fits(used.diskBytes + requests.diskBytes, Double(capacity.diskBytes) * keep)
            && fits(used.sites + requests.sites, Double(capacity.sites))
    }

    /// Kind, labels and exclusion.
    private func meetsTheRest(_ site: SiteDemand, _ agent: UnsafePointer<AgentNode>, _ excluding: Set<AgentID>) -> Bool {
        guard agent.pointee.supports(site.kind) else { return false }
        for constraint in site.constraints where !constraint.matches(agent.pointee.labels) { return false }
        return excluding.isEmpty || !excluding.contains(agent.pointee.id)
    }

    private func fits(_ wanted: Int64, _ allocatable: Double) -> Bool { wanted <= 0 || Double(wanted) <= allocatable }

    /// What the agent allocates on a dimension: capacity less the reserve on CPU, memory and
    /// disk; the site count as it is.
    func allocatable(_ capacity: Resources, _ dimension: ResourceDimension) -> Double {
        let total = Double(capacity[dimension])
        return dimension == .sites ? total : total * (1 - policy.reserveFraction)
    }

    private func fits(_ requests: Resources, _ agent: AgentNode, _ dimension: ResourceDimension) -> Bool {
        fits(agent.used[dimension] + requests[dimension], allocatable(agent.capacity, dimension))
    }

    private func search(
        _ site: SiteDemand, _ fleet: [AgentNode], _ excluding: Set<AgentID>, limit: Int
    ) -> Result<PlacementChoice, PlacementRefusal> {
        guard !fleet.isEmpty else { return .failure(refusal(site, fleet, excluding)) }
        var order = SamplingOrder(seed: StableKey.hash(site.siteID), count: fleet.count)
        var candidates: [(index: Int, fit: Double)] = []
        candidates.reserveCapacity(min(limit, fleet.count))
        var choice: PlacementChoice?
        // Agents are read in place through the buffer: a copy would retain their four tables.
        fleet.withUnsafeBufferPointer { buffer in
            guard let agents = buffer.baseAddress else { return }
            // The walk goes by blocks: first the inline checks of a whole block, whose loads do
            // not depend on each other and so overlap (the agents are scattered over a large
            // array and each one is a cache miss), then the rest and the fit of those with room.
            withUnsafeTemporaryAllocation(of: Int.self, capacity: Self.block) { kept in
                var visited = 0
                walk: while visited < buffer.count {
                    let size = min(Self.block, buffer.count - visited)
                    var count = 0
                    for _ in 0..<size {
                        let index = order.next()
                        kept[count] = index
                        count &+= hasRoom(site, agents + index) ? 1 : 0
                    }
                    visited += size
                    for position in 0..<count {
                        let index = kept[position]
                        guard meetsTheRest(site, agents + index, excluding) else { continue }
                        candidates.append((index, fit(site, agents + index)))
                        if candidates.count >= limit { break walk }
                    }
                }
            }
            choice = choose(site, candidates, agents)
        }
        guard let choice else { return .failure(refusal(site, fleet, excluding)) }
        return .success(choice)
    }

    /// The best candidate once the anti-affinity penalty is taken off. The penalty only lowers a
    /// score, so candidates are taken best fit first and the tenant's count (a hash lookup, most
    /// of a placement's cost) is read only while a fit can still beat the best score so far:
    /// usually once. The result is the same as scoring them all; ties go to the smaller id.
    private func choose(
        _ site: SiteDemand, _ candidates: [(index: Int, fit: Double)], _ agents: UnsafePointer<AgentNode>
    ) -> PlacementChoice? {
        guard !candidates.isEmpty else { return nil }
        let ordered = candidates.sorted {
            $0.fit != $1.fit ? $0.fit > $1.fit : StableKey.less(agents[$0.index].id, agents[$1.index].id)
        }
        let canPrune = policy.tenantAntiAffinityWeight >= 0
        var best = -1
        var bestScore = -Double.infinity
        for candidate in ordered {
            if best >= 0, canPrune, candidate.fit < bestScore { break }
            let score = candidate.fit - penalty(site, agents + candidate.index)
            if best < 0 || score > bestScore
                || (score == bestScore && StableKey.less(agents[candidate.index].id, agents[best].id))
            {
                best = candidate.index
                bestScore = score
            }
        }
        return PlacementChoice(agentID: agents[best].id, score: bestScore, candidatesScored: candidates.count)
    }

    private func refusal(_ site: SiteDemand, _ fleet: [AgentNode], _ excluding: Set<AgentID>) -> PlacementRefusal {
        var perAgent: [AgentID: [InfeasibleReason]] = [:]
        perAgent.reserveCapacity(fleet.count)
        for agent in fleet {
            var reasons = excluding.contains(agent.id) ? [InfeasibleReason.excluded] : []
            reasons += feasibility(of: site, on: agent)
            perAgent[agent.id] = reasons
        }
        return PlacementRefusal(perAgent: perAgent, agentsEvaluated: fleet.count)
    }
}
