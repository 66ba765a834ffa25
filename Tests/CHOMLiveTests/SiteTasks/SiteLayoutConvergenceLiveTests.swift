import CHOMAPI
import CHOMCore
import CHOMTesting
import Foundation
import Testing

/// An agent that announces the hostile-tenant site layout for the first time gets a configure task
/// for each of its sites, once (`SiteLayoutConvergence`).
@Suite("Site layout convergence, live")
struct SiteLayoutConvergenceLiveTests {
    @Test("an upgraded agent's first hello queues one configure per site it hosts, audited; later hellos queue none")
    func upgradedAgentConverges() async throws {
        try await TestCoordinator.with { coordinator in
            let state = try TemporaryDirectory.make(prefix: "chom-agent-layout")
            defer { TemporaryDirectory.remove(state) }
            let data = coordinator.dataDirectory
            let (agentID, sites) = try await TestAgent.with(coordinator: coordinator, stateDirectory: state) { agent in
                try await coordinator.waitOnline([agent.agentID])
                let first = try await coordinator.createSite(domain: "layout-a.test")
                let second = try await coordinator.createSite(domain: "layout-b.test")
                return (agent.agentID, [first.id, second.id])
            }
            func configures() async throws -> Int {
                try await TestDatabase.count(
                    "SELECT count(*) FROM tasks WHERE kind = 'configure' AND agent_id = '\(agentID)'", dataDirectory: data)
            }
            func audits() async throws -> Int {
                try await TestDatabase.count(
                    "SELECT count(*) FROM audit_entries WHERE action = 'agent.site_layout.converge' AND target = 'agent:\(agentID)'",
                    dataDirectory: data)
            }
            // Enrolled with the layout already: its first hello found no site, and nothing more comes.
            #expect(try await configures() == 0)
            #expect(try await audits() == 1)

            // As if enrolled by an older agent that is now upgraded.
            try await TestDatabase.execute("UPDATE agents SET site_layout = 1 WHERE id = '\(agentID)'", dataDirectory: data)
            try await coordinator.eventually("agent offline") {
                try await coordinator.client.agent(id: agentID.description).state == "offline"
            }
            try await TestAgent.with(coordinator: coordinator, stateDirectory: state) { agent in
                try await coordinator.waitOnline([agent.agentID])
                try await coordinator.eventually("one configure per site") { try await configures() == sites.count }
                #expect(try await audits() == 2)
                for site in sites {
                    #expect(try await TestDatabase.count(
                        "SELECT count(*) FROM tasks WHERE kind = 'configure' AND site_id = '\(site)'", dataDirectory: data) == 1)
                }
            }
            try await coordinator.eventually("agent offline") {
                try await coordinator.client.agent(id: agentID.description).state == "offline"
            }
            // The next hello: converged already.
            try await TestAgent.with(coordinator: coordinator, stateDirectory: state) { agent in
                try await coordinator.waitOnline([agent.agentID])
                #expect(try await configures() == sites.count)
                #expect(try await audits() == 2)
            }
        }
    }
}
