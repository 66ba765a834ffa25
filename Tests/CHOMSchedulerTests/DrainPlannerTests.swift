import CHOMCore
import CHOMScheduler
import Testing

@Suite("Drain planner")
struct DrainPlannerTests {
    static func setup(sitesOnDrained: Int, kinds: [SiteSettings.Kind] = []) -> ([AgentNode], [PlacedSite]) {
        var sites = Fixture.placed((0..<sitesOnDrained).map { (1, RebalancePlannerTests.disk(Int64(1 + $0 % 4))) })
        for (index, kind) in kinds.enumerated() where index < sites.count { sites[index].kind = kind }
        let fleet = Fixture.withUsage([
            Fixture.node(1, scheduling: .draining), Fixture.node(2), Fixture.node(3), Fixture.node(4, scheduling: .cordoned),
        ], sites)
        return (fleet, sites)
    }

    @Test("every site leaves the draining agent, never to it or to a cordoned agent")
    func all() {
        var (fleet, sites) = Self.setup(sitesOnDrained: 10)
        let plan = DrainPlanner().plan(draining: Fixture.agent(1), fleet: fleet, sites: sites, maxConcurrent: 20, inFlight: 0)
        #expect(plan.unplaceable.isEmpty)
        #expect(plan.moves.count == 10)
        #expect(plan.moves.allSatisfy { $0.from == Fixture.agent(1) && [Fixture.agent(2), Fixture.agent(3)].contains($0.to) })
        #expect(plan.moves[0].reason.hasPrefix("vps-1 draining → vps-"))
        Fixture.apply(plan.moves, fleet: &fleet, sites: &sites)
        #expect(!sites.contains { $0.agentID == Fixture.agent(1) })
        #expect(fleet[0].used == .zero)
    }

    @Test("a concurrency cap: rounds of at most maxConcurrent - inFlight until the agent is empty")
    func rounds() {
        var (fleet, sites) = Self.setup(sitesOnDrained: 7)
        let planner = DrainPlanner()
        #expect(planner.plan(draining: Fixture.agent(1), fleet: fleet, sites: sites, maxConcurrent: 3, inFlight: 3).moves.isEmpty)
        #expect(planner.plan(draining: Fixture.agent(1), fleet: fleet, sites: sites, maxConcurrent: 3, inFlight: 1).moves.count == 2)
        var rounds = 0
        while true {
            let plan = planner.plan(draining: Fixture.agent(1), fleet: fleet, sites: sites, maxConcurrent: 3, inFlight: 0)
            if plan.moves.isEmpty { break }
            #expect(plan.moves.count <= 3)
            Fixture.apply(plan.moves, fleet: &fleet, sites: &sites)
            rounds += 1
            if rounds > 10 { break }
        }
        #expect(rounds == 3)
        #expect(!sites.contains { $0.agentID == Fixture.agent(1) })
    }

    @Test("a site no agent can take is reported with every agent's reasons; the others still move")
    func unplaceable() throws {
        let (fleet, sites) = Self.setup(sitesOnDrained: 3, kinds: [.php])
        let limited = fleet.map { node -> AgentNode in
            var node = node
            if node.id != Fixture.agent(1) { node.supportedKinds = [.static] }
            return node
        }
        let plan = DrainPlanner().plan(draining: Fixture.agent(1), fleet: limited, sites: sites, maxConcurrent: 1, inFlight: 0)
        #expect(plan.moves.count == 1)
        let refusal = try #require(plan.unplaceable[sites[0].siteID])
        #expect(plan.unplaceable.count == 1)
        #expect(refusal.perAgent[Fixture.agent(1)] == [.excluded, .scheduling(.draining)])
        #expect(refusal.perAgent[Fixture.agent(2)] == [.kind(.php)])
        #expect(refusal.perAgent[Fixture.agent(4)] == [.scheduling(.cordoned), .kind(.php)])
        #expect(refusal.description == "0 of 4 agents can take the site: 3 php unsupported, 1 excluded, 1 cordoned, 1 draining")
    }

    @Test("sites already migrating are left alone; an unknown agent gives an empty plan")
    func skips() {
        var (fleet, sites) = Self.setup(sitesOnDrained: 4)
        sites[0].movable = false
        let plan = DrainPlanner().plan(draining: Fixture.agent(1), fleet: fleet, sites: sites, maxConcurrent: 10, inFlight: 1)
        #expect(plan.moves.count == 3)
        #expect(!plan.moves.contains { $0.siteID == sites[0].siteID })
        fleet.removeFirst()
        #expect(DrainPlanner().plan(draining: Fixture.agent(1), fleet: fleet, sites: sites, maxConcurrent: 10, inFlight: 0).moves.isEmpty)
    }
}
