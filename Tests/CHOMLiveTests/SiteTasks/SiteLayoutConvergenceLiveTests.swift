import CHOMAPI
import CHOMCore
import CHOMTesting
import CHOMTransport
import Foundation
import Testing

/// An agent that announces the hostile-tenant site layout for the first time gets a configure task
/// for each site it has a tree of, once (`SiteLayoutConvergence`).
@Suite("Site layout convergence, live")
struct SiteLayoutConvergenceLiveTests {
    @Test("an upgraded agent's first hello queues one configure per configured site, skips one that cannot be built, audited; later hellos queue none")
    func upgradedAgentConverges() async throws {
        try await TestCoordinator.with { coordinator in
            let state = try TemporaryDirectory.make(prefix: "chom-agent-layout")
            defer { TemporaryDirectory.remove(state) }
            let data = coordinator.dataDirectory
            let tls = try FleetCA.create(commonName: "layout-c.test", now: Date())
            let (agentID, configured, unconfigured, broken) = try await TestAgent.with(coordinator: coordinator, stateDirectory: state) { agent in
                try await coordinator.waitOnline([agent.agentID])
                var configured: [String] = []
                for domain in ["layout-a.test", "layout-b.test"] {
                    let site = try await coordinator.createSite(domain: domain)
                    _ = try await coordinator.client.configureSite(site.id, SiteConfigRequest(kind: "static"))
                    configured.append(site.id)
                }
                let unconfigured = try await coordinator.createSite(domain: "layout-new.test").id
                let broken = try await coordinator.createSite(domain: "layout-c.test").id
                _ = try await coordinator.client.configureSite(
                    broken, SiteConfigRequest(kind: "static", tlsCertificate: tls.certificatePEM, tlsPrivateKey: tls.privateKeyPEM))
                return (agent.agentID, configured, unconfigured, broken)
            }
            func configures(_ site: String) async throws -> Int {
                try await TestDatabase.count(
                    "SELECT count(*) FROM tasks WHERE kind = 'configure' AND site_id = '\(site)'", dataDirectory: data)
            }
            func audits() async throws -> Int {
                try await TestDatabase.count(
                    "SELECT count(*) FROM audit_entries WHERE action = 'agent.site_layout.converge' AND target = 'agent:\(agentID)'",
                    dataDirectory: data)
            }
            // Enrolled with the layout already: its first hello found no site, and nothing more comes.
            #expect(try await audits() == 1)
            for site in configured { #expect(try await configures(site) == 1) }

            // As if enrolled by an older agent that is now upgraded; one site's TLS key no longer opens.
            try await TestDatabase.execute("UPDATE agents SET site_layout = 1 WHERE id = '\(agentID)'", dataDirectory: data)
            try await TestDatabase.execute(
                "UPDATE sites SET tls_key_sealed = 'chomsec:v1:k1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' WHERE id = '\(broken)'",
                dataDirectory: data)
            try await coordinator.eventually("agent offline") {
                try await coordinator.client.agent(id: agentID.description).state == "offline"
            }
            try await TestAgent.with(coordinator: coordinator, stateDirectory: state) { agent in
                // The stream comes up whatever a site's task does.
                try await coordinator.waitOnline([agent.agentID])
                try await coordinator.eventually("one configure per configured site") {
                    try await audits() == 2
                }
                for site in configured { #expect(try await configures(site) == 2) }
                #expect(try await configures(unconfigured) == 0, "a site never configured has no tree to converge")
                #expect(try await configures(broken) == 1, "skipped")
                #expect(try await TestDatabase.count(
                    "SELECT count(*) FROM audit_entries WHERE action = 'agent.site_layout.converge' AND details LIKE '%skipped%\(broken)%'",
                    dataDirectory: data) == 1)
            }
            try await coordinator.eventually("agent offline") {
                try await coordinator.client.agent(id: agentID.description).state == "offline"
            }
            // The next hello: converged already.
            try await TestAgent.with(coordinator: coordinator, stateDirectory: state) { agent in
                try await coordinator.waitOnline([agent.agentID])
                for site in configured { #expect(try await configures(site) == 2) }
                #expect(try await audits() == 2)
            }
        }
    }
}
