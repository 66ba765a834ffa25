import CHOMCore
import CHOMScheduler
import Foundation
import Testing

@Suite("Scheduler feasibility and refusals")
struct FeasibilityTests {
    let scheduler = Scheduler()

    @Test("a healthy schedulable agent with room takes the site, with no reason")
    func feasible() throws {
        #expect(scheduler.feasibility(of: Fixture.demand(1), on: Fixture.node(1)).isEmpty)
        let choice = try scheduler.place(Fixture.demand(1), on: [Fixture.node(1)]).get()
        #expect(choice.agentID == Fixture.agent(1))
        #expect(choice.candidatesScored == 1)
    }

    static let full = Fixture.capacity
    static let cases: [(String, AgentNode, SiteDemand, InfeasibleReason)] = [
        ("offline", Fixture.node(1, health: .offline), Fixture.demand(1), .health(.offline)),
        ("suspect", Fixture.node(1, health: .suspect), Fixture.demand(1), .health(.suspect)),
        ("cordoned", Fixture.node(1, scheduling: .cordoned), Fixture.demand(1), .scheduling(.cordoned)),
        ("draining", Fixture.node(1, scheduling: .draining), Fixture.demand(1), .scheduling(.draining)),
        ("drained", Fixture.node(1, scheduling: .drained), Fixture.demand(1), .scheduling(.drained)),
        ("label region not matched", Fixture.node(1, labels: ["region": "us"]),
         Fixture.demand(1, constraints: [.equals("region", "eu")]), .label("region")),
        ("php unsupported", Fixture.node(1, kinds: [.static]), Fixture.demand(1, kind: .php), .kind(.php)),
        // 80% of 4,000 mCPU is allocatable (the 20% reserve): 3,150 used + 100 does not fit in 3,200.
        ("insufficient cpu", Fixture.node(1, used: Resources(cpuMillis: 3150)), Fixture.demand(1), .insufficient(.cpu)),
        ("insufficient memory", Fixture.node(1, used: Resources(memoryBytes: 64 << 27)), Fixture.demand(1), .insufficient(.memory)),
        ("insufficient disk", Fixture.node(1, used: Resources(diskBytes: 80 * Fixture.gib)), Fixture.demand(1), .insufficient(.disk)),
        ("insufficient sites", Fixture.node(1, used: Resources(sites: 50)), Fixture.demand(1), .insufficient(.sites)),
    ]

    @Test("each reason is produced alone, and summarized in the refusal", arguments: cases)
    func reason(_ text: String, _ agent: AgentNode, _ site: SiteDemand, _ expected: InfeasibleReason) throws {
        #expect(scheduler.feasibility(of: site, on: agent) == [expected])
        #expect(expected.description == text)
        let refusal = try #require(refused(scheduler.place(site, on: [agent])))
        #expect(refusal.perAgent == [agent.id: [expected]])
        #expect(refusal.summary == [expected: 1])
        #expect(refusal.agentsEvaluated == 1)
        #expect(refusal.description == "0 of 1 agent can take the site: 1 \(text)")
    }

    @Test("an excluded agent is refused as such, beside its other reasons")
    func excluded() throws {
        let agents = [Fixture.node(1), Fixture.node(2, scheduling: .cordoned)]
        let refusal = try #require(refused(
            scheduler.place(Fixture.demand(1), on: agents, excluding: [Fixture.agent(1), Fixture.agent(2)])))
        #expect(refusal.perAgent[Fixture.agent(1)] == [.excluded])
        #expect(refusal.perAgent[Fixture.agent(2)] == [.excluded, .scheduling(.cordoned)])
        #expect(refusal.summary == [.excluded: 2, .scheduling(.cordoned): 1])
        // Without the exclusion, agent 1 takes it.
        #expect(try scheduler.place(Fixture.demand(1), on: agents, excluding: [Fixture.agent(2)]).get().agentID == Fixture.agent(1))
    }

    @Test("an agent failing several checks lists every reason in a fixed order")
    func several() {
        let agent = Fixture.node(
            1, used: Resources(diskBytes: 100 * Fixture.gib, sites: 50), health: .offline, scheduling: .cordoned,
            labels: [:], kinds: [.static])
        let site = Fixture.demand(1, kind: .app, constraints: [.equals("region", "eu"), LabelConstraint(key: "ssd", operator: .exists)])
        #expect(scheduler.feasibility(of: site, on: agent) == [
            .health(.offline), .scheduling(.cordoned), .label("region"), .label("ssd"), .kind(.app),
            .insufficient(.disk), .insufficient(.sites),
        ])
    }

    @Test("the refusal counts agents per reason, largest first")
    func description() throws {
        let agents = [
            Fixture.node(1, scheduling: .cordoned), Fixture.node(2, scheduling: .cordoned), Fixture.node(3, health: .offline),
            Fixture.node(4, used: Resources(diskBytes: 99 * Fixture.gib)),
        ]
        let refusal = try #require(refused(scheduler.place(Fixture.demand(1), on: agents)))
        #expect(refusal.description == "0 of 4 agents can take the site: 2 cordoned, 1 offline, 1 insufficient disk")
        #expect(refusal.perAgent.count == 4)
        #expect(refusal.orderedSummary.map(\.agents) == [2, 1, 1])
        let empty = try #require(refused(scheduler.place(Fixture.demand(1), on: [])))
        #expect(empty.description == "0 of 0 agents can take the site: the fleet has no agent")
    }

    @Test("label constraints: equals, notEquals (an absent label passes), in, exists")
    func labels() {
        let labels = ["region": "eu", "zone": "b"]
        #expect(LabelConstraint.equals("region", "eu").matches(labels))
        #expect(!LabelConstraint.equals("region", "us").matches(labels))
        #expect(!LabelConstraint.equals("rack", "1").matches(labels))
        #expect(LabelConstraint(key: "region", operator: .notEquals, values: ["us"]).matches(labels))
        #expect(!LabelConstraint(key: "region", operator: .notEquals, values: ["eu"]).matches(labels))
        #expect(LabelConstraint(key: "rack", operator: .notEquals, values: ["1"]).matches(labels))
        #expect(LabelConstraint(key: "zone", operator: .in, values: ["a", "b"]).matches(labels))
        #expect(!LabelConstraint(key: "zone", operator: .in, values: ["c"]).matches(labels))
        #expect(!LabelConstraint(key: "rack", operator: .in, values: ["1"]).matches(labels))
        #expect(LabelConstraint(key: "zone", operator: .exists).matches(labels))
        #expect(!LabelConstraint(key: "rack", operator: .exists).matches(labels))
    }

    @Test("reasons round-trip through JSON as {reason, detail}; unknown ones are refused")
    func codable() throws {
        let reasons: [InfeasibleReason] = [
            .health(.offline), .scheduling(.draining), .label("region"), .kind(.php), .insufficient(.memory), .excluded,
        ]
        let data = try JSONEncoder().encode(reasons)
        #expect(try JSONDecoder().decode([InfeasibleReason].self, from: data) == reasons)
        let text = String(decoding: try JSONEncoder().encode(InfeasibleReason.insufficient(.disk)), as: UTF8.self)
        #expect(text.contains(#""reason":"insufficient""#) && text.contains(#""detail":"disk""#))
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(InfeasibleReason.self, from: Data(#"{"reason":"health","detail":"asleep"}"#.utf8))
        }
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(InfeasibleReason.self, from: Data(#"{"reason":"moon"}"#.utf8))
        }
    }

    @Test("default requests per kind, overridden dimension by dimension")
    func defaults() {
        let defaults = SiteRequestDefaults()
        #expect(defaults.requests(for: .static) == Resources(cpuMillis: 100, memoryBytes: 64 << 20, diskBytes: 1 << 30, sites: 1))
        #expect(defaults.requests(for: .php).memoryBytes == 256 << 20)
        #expect(defaults.requests(for: .app).memoryBytes == 512 << 20)
        let custom = defaults.requests(for: .php, override: PartialResources(diskBytes: 20 << 30))
        #expect(custom == Resources(cpuMillis: 500, memoryBytes: 256 << 20, diskBytes: 20 << 30, sites: 1))
    }

    @Test("resource arithmetic, fits and utilization")
    func resources() {
        let a = Resources(cpuMillis: 1000, memoryBytes: 10, diskBytes: 40, sites: 1)
        let capacity = Resources(cpuMillis: 4000, memoryBytes: 10, diskBytes: 50, sites: 2)
        #expect(a + a - a == a)
        #expect(a.fits(in: capacity))
        #expect(!(a + a).fits(in: capacity))
        #expect(a.utilization(.cpu, of: capacity) == 0.25)
        #expect(a.peakUtilization(of: capacity) == (.memory, 1.0))
        #expect(a.peakUtilization(of: capacity, over: [.cpu, .disk]) == (.disk, 0.8))
        #expect(Resources(cpuMillis: 1).utilization(.cpu, of: .zero) == 1)
        #expect(Resources.zero.utilization(.cpu, of: .zero) == 0)
    }
}

func refused(_ result: Result<PlacementChoice, PlacementRefusal>) -> PlacementRefusal? {
    if case .failure(let refusal) = result { return refusal }
    return nil
}
