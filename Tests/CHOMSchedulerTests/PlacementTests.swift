import CHOMCore
import CHOMScheduler
import Testing

@Suite("Placement")
struct PlacementTests {
    @Test("a site goes to the agent with the most free slots; ties go to the first; full agents never")
    func mostFree() {
        let a = AgentID(), b = AgentID(), c = AgentID()
        func candidate(_ id: AgentID, _ max: Int, _ hosted: Int) -> Placement.Candidate {
            Placement.Candidate(agentID: id, capacity: Capacity(maxSites: max, hostedSites: hosted))
        }
        #expect(Placement.choose([candidate(a, 10, 5), candidate(b, 10, 2), candidate(c, 10, 9)]) == b)
        #expect(Placement.choose([candidate(a, 10, 2), candidate(b, 10, 2)]) == a)
        #expect(Placement.choose([candidate(a, 1, 1), candidate(b, 0, 0)]) == nil)
        #expect(Placement.choose([]) == nil)
    }

    @Test("six sites over three equal agents spread two each")
    func spread() {
        let agents = [AgentID(), AgentID(), AgentID()]
        var hosted = [0, 0, 0]
        for _ in 0..<6 {
            let chosen = Placement.choose(agents.indices.map {
                Placement.Candidate(agentID: agents[$0], capacity: Capacity(maxSites: 50, hostedSites: hosted[$0]))
            })
            hosted[agents.firstIndex(of: chosen!)!] += 1
        }
        #expect(hosted == [2, 2, 2])
    }

    @Test("domain names are validated", arguments: [
        ("example.com", true), ("a-b.c.test", true), ("x", true), ("", false), ("-a.com", false), ("a-.com", false),
        ("A.com", false), ("a..com", false), ("a/b.com", false), ("../etc", false), (String(repeating: "a", count: 64) + ".com", false),
    ])
    func domains(name: String, valid: Bool) {
        #expect(DomainName.isValid(name) == valid)
    }
}
