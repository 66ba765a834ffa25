import CHOMCore
import CHOMScheduler
import Testing

@Suite("Scheduler scoring and sampling")
struct ScoringTests {
    @Test("binpack takes the fullest agent that fits, spread the emptiest")
    func binpackAndSpread() throws {
        let half = Resources(cpuMillis: 1600, memoryBytes: 3 * Fixture.gib, diskBytes: 40 * Fixture.gib, sites: 20)
        let tenth = Resources(cpuMillis: 400, memoryBytes: Fixture.gib, diskBytes: 10 * Fixture.gib, sites: 5)
        let almostFull = Resources(cpuMillis: 3150, memoryBytes: 6 * Fixture.gib, diskBytes: 70 * Fixture.gib, sites: 40)
        let fleet = [Fixture.node(1, used: tenth), Fixture.node(2, used: half), Fixture.node(3, used: almostFull)]
        let site = Fixture.demand(1, requests: Resources(cpuMillis: 500, memoryBytes: 256 << 20, diskBytes: 5 * Fixture.gib, sites: 1))
        // Agent 3 would go past its CPU allowance, so binpack settles for agent 2.
        #expect(Scheduler().feasibility(of: site, on: fleet[2]) == [.insufficient(.cpu)])
        let binpack = try Scheduler(policy: SchedulerPolicy(algorithm: .binpack)).place(site, on: fleet).get()
        let spread = try Scheduler(policy: SchedulerPolicy(algorithm: .spread)).place(site, on: fleet).get()
        #expect(binpack.agentID == Fixture.agent(2))
        #expect(spread.agentID == Fixture.agent(1))
        #expect(binpack.candidatesScored == 2)
    }

    @Test("tenant anti-affinity spreads one tenant's sites; without it binpack stacks them", arguments: [0.25, 0.0])
    func antiAffinity(weight: Double) throws {
        let scheduler = Scheduler(policy: SchedulerPolicy(algorithm: .binpack, tenantAntiAffinityWeight: weight))
        var fleet = [Fixture.node(1), Fixture.node(2), Fixture.node(3)]
        var chosen: [AgentID] = []
        for number in 1...3 {
            let site = Fixture.demand(number, tenant: 7)
            let choice = try scheduler.place(site, on: fleet).get()
            let index = try #require(fleet.firstIndex { $0.id == choice.agentID })
            fleet[index].used += site.requests
            fleet[index].tenantSites[site.tenantID, default: 0] += 1
            chosen.append(choice.agentID)
        }
        #expect(Set(chosen).count == (weight > 0 ? 3 : 1))
        // Another tenant's site still packs onto an agent that holds sites.
        let other = try scheduler.place(Fixture.demand(9, tenant: 8), on: fleet).get()
        #expect(fleet.first { $0.id == other.agentID }!.used.sites > 0)
    }

    @Test("equal agents: the smallest agent id wins, whatever the fleet order")
    func ties() throws {
        let fleet = (1...8).map { Fixture.node($0) }
        for algorithm in ScoringAlgorithm.allCases {
            let scheduler = Scheduler(policy: SchedulerPolicy(algorithm: algorithm))
            #expect(try scheduler.placeFullScan(Fixture.demand(1), on: fleet).get().agentID == Fixture.agent(1))
            #expect(try scheduler.placeFullScan(Fixture.demand(1), on: fleet.reversed()).get().agentID == Fixture.agent(1))
            #expect(try scheduler.place(Fixture.demand(1), on: fleet.reversed()).get().agentID == Fixture.agent(1))
        }
    }

    @Test("the same input gives the same choice; a shuffled fleet gives the same choice when every agent is visited")
    func determinism() throws {
        let fleet = Fixture.fleet(60, seed: 42)
        var random = SplitMix(seed: 7)
        for algorithm in ScoringAlgorithm.allCases {
            let sampled = Scheduler(policy: SchedulerPolicy(algorithm: algorithm, candidateLimit: 4))
            let whole = Scheduler(policy: SchedulerPolicy(algorithm: algorithm, candidateLimit: 60))
            for number in 1...40 {
                let site = Fixture.demand(number, tenant: number % 3)
                let first = try sampled.place(site, on: fleet).get()
                #expect(try sampled.place(site, on: fleet).get() == first)
                let shuffled = fleet.shuffled(using: &random)
                let oracle = try whole.placeFullScan(site, on: fleet).get()
                #expect(try whole.placeFullScan(site, on: shuffled).get().agentID == oracle.agentID)
                #expect(try whole.place(site, on: shuffled).get().agentID == oracle.agentID)
            }
        }
    }

    @Test("a sampled choice is feasible, scores at most its limit and never beats the full scan")
    func sampling() throws {
        let fleet = Fixture.fleet(300, seed: 3)
        let scheduler = Scheduler(policy: SchedulerPolicy(candidateLimit: 8))
        var differing = 0
        var starts = Set<AgentID>()
        for number in 1...100 {
            let site = Fixture.demand(number, constraints: [.equals("region", "eu")])
            let sampled = try scheduler.place(site, on: fleet).get()
            let full = try scheduler.placeFullScan(site, on: fleet).get()
            let agent = try #require(fleet.first { $0.id == sampled.agentID })
            #expect(scheduler.feasibility(of: site, on: agent).isEmpty)
            #expect(sampled.candidatesScored == 8)
            #expect(full.candidatesScored > 8)
            #expect(sampled.score <= full.score)
            if sampled.agentID != full.agentID { differing += 1 }
            starts.insert(sampled.agentID)
        }
        // The sampling order depends on the site: the choices are spread over the fleet.
        #expect(starts.count > 20)
        #expect(differing > 0)
    }

    @Test("the one feasible agent among many is found after a full pass")
    func needle() throws {
        var fleet = (1...500).map { Fixture.node($0, scheduling: .cordoned) }
        fleet[317].scheduling = .schedulable
        let choice = try Scheduler().place(Fixture.demand(1), on: fleet).get()
        #expect(choice.agentID == Fixture.agent(318))
        #expect(choice.candidatesScored == 1)
    }

    @Test("the sampling walk reaches every agent: a lone feasible agent is found wherever it is", arguments: [1, 2, 3, 4, 7, 16, 30, 64])
    func walkCoversFleet(size: Int) throws {
        for position in 0..<size {
            var fleet = (1...size).map { Fixture.node($0, health: .offline) }
            fleet[position].health = .online
            for number in 1...5 {
                let choice = try Scheduler(policy: SchedulerPolicy(candidateLimit: 1)).place(Fixture.demand(number), on: fleet).get()
                #expect(choice.agentID == fleet[position].id)
            }
        }
    }

    @Test("cordoned and draining agents never receive a site, however empty")
    func neverCordoned() throws {
        let busy = Resources(cpuMillis: 2000, memoryBytes: 4 * Fixture.gib, diskBytes: 50 * Fixture.gib, sites: 25)
        let fleet = [
            Fixture.node(1, scheduling: .cordoned), Fixture.node(2, scheduling: .draining), Fixture.node(3, scheduling: .drained),
            Fixture.node(4, used: busy),
        ]
        for algorithm in ScoringAlgorithm.allCases {
            for number in 1...20 {
                let choice = try Scheduler(policy: SchedulerPolicy(algorithm: algorithm)).place(Fixture.demand(number), on: fleet).get()
                #expect(choice.agentID == Fixture.agent(4))
            }
        }
    }

    @Test("the full scan equals scoring every feasible agent by hand, anti-affinity included")
    func oracle() throws {
        var fleet = Fixture.fleet(120, seed: 5)
        var random = SplitMix(seed: 9)
        for index in fleet.indices {
            for _ in 0..<Int(random.next() % 4) { fleet[index].tenantSites[Fixture.tenant(Int(random.next() % 4)), default: 0] += 1 }
        }
        for algorithm in ScoringAlgorithm.allCases {
            let scheduler = Scheduler(policy: SchedulerPolicy(algorithm: algorithm, tenantAntiAffinityWeight: 0.1))
            for number in 1...60 {
                let site = Fixture.demand(number, tenant: number % 4)
                let scored = fleet.filter { scheduler.feasibility(of: site, on: $0).isEmpty }
                    .map { (agent: $0.id, score: scheduler.score(of: site, on: $0)) }
                let best = try #require(scored.max {
                    $0.score != $1.score ? $0.score < $1.score : $0.agent.description > $1.agent.description
                })
                let choice = try scheduler.placeFullScan(site, on: fleet).get()
                #expect(choice.agentID == best.agent)
                #expect(choice.score == best.score)
                #expect(choice.candidatesScored == scored.count)
            }
        }
    }
}
