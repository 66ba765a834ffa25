import CHOMCore
import CHOMScheduler
import Testing

@Suite("Rebalance planner")
struct RebalancePlannerTests {
    static func disk(_ gib: Int64) -> Resources {
        Resources(cpuMillis: 100, memoryBytes: 64 << 20, diskBytes: gib * Fixture.gib, sites: 1)
    }

    /// Sites of the given disk sizes (GiB) on each agent number; usage follows.
    static func fleet(_ layout: [Int: [Int64]], agents: Int, tweak: (inout AgentNode) -> Void = { _ in }) -> ([AgentNode], [PlacedSite]) {
        var entries: [(agent: Int, requests: Resources)] = []
        for agent in layout.keys.sorted() { for size in layout[agent]! { entries.append((agent, disk(size))) } }
        let sites = Fixture.placed(entries)
        var nodes = Fixture.withUsage((1...agents).map { Fixture.node($0) }, sites)
        for index in nodes.indices { tweak(&nodes[index]) }
        return (nodes, sites)
    }

    static func utilization(_ node: AgentNode) -> Double {
        node.used.peakUtilization(of: node.capacity, over: [.cpu, .memory, .disk]).value
    }

    @Test("an overloaded agent is brought under the threshold; applied, the next plan is empty")
    func overloaded() {
        var (fleet, sites) = Self.fleet([1: Array(repeating: 9, count: 10), 2: [9, 9], 3: [9, 9]], agents: 3)
        let planner = RebalancePlanner(policy: RebalancePolicy(maxMoves: 10))
        let moves = planner.plan(fleet: fleet, sites: sites)
        #expect(moves.count == 2)
        #expect(moves.allSatisfy { $0.from == Fixture.agent(1) && $0.to != Fixture.agent(1) })
        #expect(Set(moves.map(\.to)) == [Fixture.agent(2), Fixture.agent(3)])
        #expect(moves[0].reason == "vps-1 at 90% disk (threshold 80%) → vps-2 at 27% after the move")
        Fixture.apply(moves, fleet: &fleet, sites: &sites)
        #expect(fleet.allSatisfy { Self.utilization($0) <= 0.8 })
        #expect(planner.plan(fleet: fleet, sites: sites).isEmpty)
    }

    @Test("the move that best evens the pair out goes first: one large site rather than many small ones")
    func fewestMoves() {
        let (fleet, sites) = Self.fleet([1: [5, 30, 10, 20, 10, 5, 10], 2: []], agents: 2)
        let moves = RebalancePlanner().plan(fleet: fleet, sites: sites)
        #expect(moves.count == 1)
        #expect(moves.first?.siteID == sites[1].siteID)
    }

    @Test("at most maxMoves - inFlight moves", arguments: [(10, 0, 4), (2, 0, 2), (2, 1, 1), (2, 2, 0), (2, 5, 0)])
    func budget(maxMoves: Int, inFlight: Int, expected: Int) {
        let (fleet, sites) = Self.fleet([1: Array(repeating: 5, count: 20)], agents: 5)
        let moves = RebalancePlanner(policy: RebalancePolicy(maxMoves: maxMoves)).plan(fleet: fleet, sites: sites, inFlight: inFlight)
        #expect(moves.count == expected)
        #expect(Set(moves.map(\.siteID)).count == moves.count)
    }

    @Test("hysteresis: a move that would fill its target past threshold - hysteresis is not proposed")
    func hysteresis() {
        // Agent 1 at 82% disk; agent 2 at 72%: taking the 5 GiB site would put it at 77%, under
        // the threshold but above 75%, so the two would trade places on the next plan.
        let (fleet, sites) = Self.fleet([1: [41, 36, 5], 2: [36, 36]], agents: 2)
        #expect(RebalancePlanner().plan(fleet: fleet, sites: sites).isEmpty)
        #expect(RebalancePlanner(policy: RebalancePolicy(hysteresis: 0)).plan(fleet: fleet, sites: sites).map(\.siteID) == [sites[2].siteID])
        // With room below 75%, the same agent gives up a site.
        let (roomy, roomySites) = Self.fleet([1: [41, 41], 2: [20]], agents: 2)
        #expect(RebalancePlanner().plan(fleet: roomy, sites: roomySites).count == 1)
    }

    @Test("below the threshold: binpack moves nothing; spread evens out until the gain is under hysteresis, then stops")
    func spreadPhase() {
        var (fleet, sites) = Self.fleet([1: Array(repeating: 5, count: 14)], agents: 4)
        #expect(RebalancePlanner().plan(fleet: fleet, sites: sites).isEmpty)
        let spread = RebalancePlanner(
            scheduler: Scheduler(policy: SchedulerPolicy(algorithm: .spread)), policy: RebalancePolicy(maxMoves: 50))
        let moves = spread.plan(fleet: fleet, sites: sites)
        #expect(!moves.isEmpty)
        #expect(moves[0].reason.hasPrefix("spread 70% → 65%: vps-1 at 70% disk → "))
        Fixture.apply(moves, fleet: &fleet, sites: &sites)
        let levels = fleet.map(Self.utilization)
        #expect(levels.max()! - levels.min()! <= 0.10 + 1e-9)
        #expect(spread.plan(fleet: fleet, sites: sites).isEmpty)
    }

    @Test("cordoned, draining and offline agents never receive; label constraints are kept")
    func targets() {
        var (fleet, sites) = Self.fleet([1: Array(repeating: 10, count: 9), 5: [10, 10, 10, 10, 10]], agents: 6) { node in
            switch node.name {
            case "vps-2": node.scheduling = .cordoned
            case "vps-3": node.scheduling = .draining
            case "vps-4": node.health = .offline
            case "vps-6": node.labels = ["region": "us"]
            default: node.labels = ["region": "eu"]
            }
        }
        for index in sites.indices { sites[index].constraints = [.equals("region", "eu")] }
        let moves = RebalancePlanner(policy: RebalancePolicy(maxMoves: 10)).plan(fleet: fleet, sites: sites)
        #expect(!moves.isEmpty)
        #expect(moves.allSatisfy { $0.to == Fixture.agent(5) })
        Fixture.apply(moves, fleet: &fleet, sites: &sites)
        #expect(Self.utilization(fleet[4]) <= 0.75 + 1e-9)
    }

    @Test("sites that are not movable stay, even on an overloaded agent")
    func pinned() {
        var (fleet, sites) = Self.fleet([1: Array(repeating: 9, count: 10)], agents: 3)
        for index in sites.indices { sites[index].movable = false }
        #expect(RebalancePlanner().plan(fleet: fleet, sites: sites).isEmpty)
        sites[3].movable = true
        fleet = Fixture.withUsage(fleet.map { var node = $0; node.used = .zero; node.tenantSites = [:]; return node }, sites)
        #expect(RebalancePlanner().plan(fleet: fleet, sites: sites).map(\.siteID) == [sites[3].siteID])
    }

    @Test("a large mixed fleet: every target feasible, no site twice, the plan applied leaves nothing to do")
    func mixedFleet() {
        var random = SplitMix(seed: 11)
        var entries: [(agent: Int, requests: Resources)] = []
        for agent in 1...40 {
            let count = agent % 5 == 0 ? 18 : Int(random.next() % 8)
            for _ in 0..<count { entries.append((agent, Self.disk(Int64(1 + random.next() % 5)))) }
        }
        var sites = Fixture.placed(entries)
        var fleet = Fixture.withUsage((1...40).map { Fixture.node($0, capacity: Resources(
            cpuMillis: 8000, memoryBytes: 16 * Fixture.gib, diskBytes: 60 * Fixture.gib, sites: 100)) }, sites)
        #expect(fleet.contains { Self.utilization($0) > 0.8 })
        for algorithm in ScoringAlgorithm.allCases {
            let planner = RebalancePlanner(
                scheduler: Scheduler(policy: SchedulerPolicy(algorithm: algorithm)), policy: RebalancePolicy(maxMoves: 1000))
            var state = (fleet, sites)
            let moves = planner.plan(fleet: state.0, sites: state.1)
            #expect(Set(moves.map(\.siteID)).count == moves.count)
            Fixture.apply(moves, fleet: &state.0, sites: &state.1)
            #expect(state.0.allSatisfy { Self.utilization($0) <= 0.8 })
            #expect(planner.plan(fleet: state.0, sites: state.1).isEmpty)
            #expect(planner.plan(fleet: fleet, sites: sites) == moves)
        }
        _ = (fleet.count, sites.count)
        fleet.removeAll()
        sites.removeAll()
        #expect(RebalancePlanner().plan(fleet: fleet, sites: sites).isEmpty)
    }
}
