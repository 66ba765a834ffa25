/// One computation of `RebalancePlanner.plan`: the fleet in memory, utilizations kept sorted,
/// and the moves chosen so far.
struct RebalanceRun {
    private struct Candidate {
        var site: Int
        var target: Int
        var delta: Double
        var sourceAfter: Double
        var targetAfter: Double
        var spreadAfter: Double
    }

    private struct Pending {
        var origin: Int
        var sourceText: String
        var target: Int
        var targetText: String
    }

    private let planner: RebalancePlanner
    private var model: FleetModel
    private let budget: Int
    private let counts: [Bool]
    private var utilization: [Double]
    private var peakDimension: [ResourceDimension]
    /// Counted agents, by utilization then agent id, least utilized first.
    private var order: [Int]
    private var pending: [Int: Pending] = [:]
    private var sequence: [Int] = []

    init(planner: RebalancePlanner, model: FleetModel, budget: Int) {
        self.planner = planner
        self.model = model
        self.budget = budget
        var counts: [Bool] = [], utilization: [Double] = [], peakDimension: [ResourceDimension] = []
        model.agents.withUnsafeBufferPointer { agents in
            for agent in agents.indices {
                let state = agents[agent].scheduling
                counts.append(agents[agent].health == .online && (state == .schedulable || state == .cordoned))
                let peak = agents[agent].used.peakUtilization(of: agents[agent].capacity, over: planner.policy.dimensions)
                utilization.append(peak.value)
                peakDimension.append(peak.dimension)
            }
        }
        self.counts = counts
        self.utilization = utilization
        self.peakDimension = peakDimension
        order = []
        order = model.agents.indices.filter { counts[$0] }.sorted { precedes($0, $1) }
    }

    private var threshold: Double { planner.policy.utilizationThreshold }
    private var targetCap: Double { planner.policy.utilizationThreshold - planner.policy.hysteresis }

    mutating func plan() {
        var stuck = Set<Int>()
        var steps = 0
        let maxSteps = 4 * model.sites.count + 16
        while steps < maxSteps {
            steps += 1
            if let source = order.last(where: { utilization[$0] > threshold && !stuck.contains($0) }) {
                if let candidate = bestMove(from: source, needsSpreadGain: false) {
                    apply(candidate, from: source, overload: true)
                    stuck.removeAll()
                } else {
                    stuck.insert(source)
                }
                continue
            }
            guard planner.scheduler.policy.algorithm == .spread, let source = order.last,
                utilization[source] <= threshold,
                let candidate = bestMove(from: source, needsSpreadGain: true)
            else { break }
            apply(candidate, from: source, overload: false)
        }
    }

    func moves() -> [Move] {
        sequence.compactMap { site in
            guard let move = pending[site] else { return nil }
            return Move(
                siteID: model.sites[site].siteID, tenantID: model.sites[site].tenantID,
                from: model.agents[move.origin].id, to: model.agents[move.target].id,
                reason: move.sourceText + " → " + move.targetText)
        }
    }

    private func precedes(_ a: Int, _ b: Int) -> Bool {
        utilization[a] != utilization[b] ? utilization[a] < utilization[b] : model.keyLess(a, b)
    }

    private func spread() -> Double {
        guard let first = order.first, let last = order.last else { return 0 }
        return utilization[last] - utilization[first]
    }

    /// max − min over the counted agents once `source` and `target` have the given utilizations.
    private func spread(source: Int, sourceAfter: Double, target: Int, targetAfter: Double) -> Double {
        var high = max(sourceAfter, targetAfter), low = min(sourceAfter, targetAfter)
        if let other = order.last(where: { $0 != source && $0 != target }) { high = max(high, utilization[other]) }
        if let other = order.first(where: { $0 != source && $0 != target }) { low = min(low, utilization[other]) }
        return high - low
    }

    private func bestMove(from source: Int, needsSpreadGain: Bool) -> Candidate? {
        // Agents are read in place: a copy per target would retain their four tables.
        model.agents.withUnsafeBufferPointer { buffer in
            guard let agents = buffer.baseAddress else { return nil }
            return bestMove(from: source, needsSpreadGain: needsSpreadGain, agents)
        }
    }

    private func bestMove(from source: Int, needsSpreadGain: Bool, _ agents: UnsafePointer<AgentNode>) -> Candidate? {
        let sourceNow = utilization[source]
        let spreadNow = spread()
        let perSite = max(1, planner.scheduler.policy.candidateLimit)
        let dimensions = planner.policy.dimensions
        var best: Candidate?
        for site in model.sitesOf[source] where model.sites[site].movable {
            if pending[site] == nil, pending.count >= budget { continue }
            let demand = model.sites[site].demand
            let requests = demand.requests
            let sourceAfter = (agents[source].used - requests).peakUtilization(of: agents[source].capacity, over: dimensions).value
            var examined = 0
            for target in order where target != source {
                // Ascending order: once a target starts above the cap, every later one does.
                if utilization[target] > targetCap || examined >= perSite { break }
                guard planner.scheduler.isFeasible(demand, agents + target, []) else { continue }
                examined += 1
                let targetAfter = (agents[target].used + requests).peakUtilization(of: agents[target].capacity, over: dimensions).value
                guard targetAfter <= targetCap + 1e-12 else { continue }
                let delta = sourceAfter * sourceAfter + targetAfter * targetAfter
                    - sourceNow * sourceNow - utilization[target] * utilization[target]
                guard delta < -1e-12 else { continue }
                var spreadAfter = spreadNow
                if needsSpreadGain {
                    spreadAfter = spread(source: source, sourceAfter: sourceAfter, target: target, targetAfter: targetAfter)
                    guard spreadNow - spreadAfter >= planner.policy.hysteresis - 1e-12 else { continue }
                }
                let candidate = Candidate(
                    site: site, target: target, delta: delta, sourceAfter: sourceAfter, targetAfter: targetAfter,
                    spreadAfter: spreadAfter)
                if let current = best, !better(candidate, than: current) { continue }
                best = candidate
            }
        }
        return best
    }

    private func better(_ a: Candidate, than b: Candidate) -> Bool {
        if a.delta != b.delta { return a.delta < b.delta }
        if a.site != b.site { return model.siteKeys[a.site] < model.siteKeys[b.site] }
        return model.keyLess(a.target, b.target)
    }

    private mutating func apply(_ candidate: Candidate, from source: Int, overload: Bool) {
        let sourceAgent = model.agents[source], targetAgent = model.agents[candidate.target]
        let dimension = peakDimension[source].rawValue
        let sourceText = overload
            ? "\(sourceAgent.name) at \(percent(utilization[source])) \(dimension) (threshold \(percent(threshold)))"
            : "spread \(percent(spread())) → \(percent(candidate.spreadAfter)): \(sourceAgent.name) at \(percent(utilization[source])) \(dimension)"
        let targetText = "\(targetAgent.name) at \(percent(candidate.targetAfter)) after the move"

        if var move = pending[candidate.site] {
            if move.origin == candidate.target {
                pending[candidate.site] = nil
                sequence.removeAll { $0 == candidate.site }
            } else {
                move.target = candidate.target
                move.targetText = targetText
                pending[candidate.site] = move
            }
        } else {
            pending[candidate.site] = Pending(
                origin: source, sourceText: sourceText, target: candidate.target, targetText: targetText)
            sequence.append(candidate.site)
        }

        model.move(site: candidate.site, to: candidate.target)
        for agent in [source, candidate.target] {
            order.removeAll { $0 == agent }
            let peak = model.agents[agent].used.peakUtilization(
                of: model.agents[agent].capacity, over: planner.policy.dimensions)
            utilization[agent] = peak.value
            peakDimension[agent] = peak.dimension
            var low = 0, high = order.count
            while low < high {
                let middle = (low + high) / 2
                if precedes(order[middle], agent) { low = middle + 1 } else { high = middle }
            }
            order.insert(agent, at: low)
        }
    }
}
