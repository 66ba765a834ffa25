import CHOMAPI
import CHOMCoordinator
import CHOMCore
import CHOMProtocol
import CHOMTesting
import Foundation
import Testing

/// The site lifecycle (`SiteLifecycle`) as the API and the task results drive it: suspension
/// reasons, refusals while a site moves, and results from an agent the site is not on.
@Suite("Site lifecycle through the routes and the task results", .serialized)
struct SiteLifecycleLiveTests {
    /// `SiteTaskWorld`, its agent reporting a host with room for the site (placement weighs cores,
    /// memory and disk from the heartbeats).
    func world(_ body: (SiteTaskWorld) async throws -> Void) async throws {
        try await TestCoordinator.with { coordinator in
            let agent = try await IdentityFixtures.addAgent(coordinator)
            let facts = #"{"hostname": "lifecycle", "cpuCount": 8, "memoryTotalBytes": 17179869184, "#
                + #""memoryAvailableBytes": 17179869184, "diskTotalBytes": 549755813888, "diskFreeBytes": 549755813888, "#
                + #""load1": 0, "load5": 0, "load15": 0}"#
            try await TestDatabase.execute(
                "UPDATE agents SET host_facts = '\(facts)'::jsonb WHERE id = '\(agent)'",
                dataDirectory: coordinator.dataDirectory)
            let organization = try await IdentityFixtures.organization(
                coordinator, name: "Tasks", operatorToken: coordinator.operatorToken)
            try await body(SiteTaskWorld(
                coordinator: coordinator, organization: organization, agentID: agent, api: RawAPI(coordinator)))
        }
    }

    func sql(_ world: SiteTaskWorld, _ statement: String) async throws {
        try await TestDatabase.execute(statement, dataDirectory: world.coordinator.dataDirectory)
    }

    func deploy(_ world: SiteTaskWorld) async throws -> TestHTTP.Reply {
        try await world.send("POST", "/v1/sites/\(world.site)/deploy", json: ["releaseId": world.organization.releaseID])
    }

    @Test("suspend and resume add and lift manual; while billing holds the site, resuming keeps it suspended")
    func suspensionReasons() async throws {
        try await world { world in
            let client = world.coordinator.client(token: world.owner)
            let suspend = try await world.send("POST", "/v1/sites/\(world.site)/suspend")
            #expect(suspend.status == 202, "\(suspend.text)")
            let suspendTask = try #require(try suspend.json()["id"] as? String)
            var site = try await client.site(world.site)
            #expect(site.suspensionReasons == ["manual"] && !site.suspended, "the reason at once, the flag once applied")

            // Billing holds it too, as billing would set it.
            try await sql(world, "UPDATE sites SET suspension_reasons = '{manual,billing}' WHERE id = '\(world.site)'")
            let resume = try await world.send("POST", "/v1/sites/\(world.site)/resume")
            #expect(resume.status == 202, "\(resume.text)")
            let resumeTask = try #require(try resume.json()["id"] as? String)
            let kept = try await world.payload(resumeTask).suspend
            #expect(kept.suspended && kept.site.suspended, "billing still holds the site: the task keeps it suspended")
            site = try await client.site(world.site)
            #expect(site.suspensionReasons == ["billing"])
            let again = try await world.send("POST", "/v1/sites/\(world.site)/resume")
            #expect(again.status == 409)
            #expect(IdentityFixtures.detail(again).hasSuffix("site is suspended for billing, not manual; resuming it lifts nothing"))

            // Any task queued now carries the wanted suspension, whatever the agent applied so far.
            let deployed = try await deploy(world)
            #expect(deployed.status == 202, "\(deployed.text)")
            #expect(try await world.payload(try #require(try deployed.json()["id"] as? String)).deploy.site.suspended)

            try await world.report(suspendTask) { _ in }
            try await world.report(resumeTask) { _ in }
            #expect(try await client.site(world.site).suspended, "the resume task applied: still suspended")

            // Billing lifted: a manual resume (no reason left) resumes the site.
            try await sql(world, "UPDATE sites SET suspension_reasons = '{}' WHERE id = '\(world.site)'")
            let served = try await world.send("POST", "/v1/sites/\(world.site)/resume")
            let servedTask = try #require(try served.json()["id"] as? String)
            #expect(try await world.payload(servedTask).suspend.suspended == false)
            try await world.report(servedTask) { _ in }
            site = try await client.site(world.site)
            #expect(!site.suspended && site.suspensionReasons.isEmpty)
        }
    }

    @Test("a migrating site takes no deploy, configure, rollback or remove, with the lifecycle's reason; it takes a suspend")
    func migratingRefuses() async throws {
        try await world { world in
            try await sql(world, "UPDATE sites SET state = 'migrating' WHERE id = '\(world.site)'")
            let tasks = "SELECT count(*) FROM tasks WHERE site_id = '\(world.site)'"
            let queued = try await world.count(tasks)
            let refusals: [(TestHTTP.Reply, String)] = [
                (try await deploy(world), "deploy"),
                (try await world.send("PUT", "/v1/sites/\(world.site)/config", json: ["kind": "static"]), "configure"),
                (try await world.send("POST", "/v1/sites/\(world.site)/rollback", json: [:]), "rollback"),
                (try await world.send("DELETE", "/v1/sites/\(world.site)"), "remove"),
                (try await world.send("DELETE", "/v1/sites/\(world.site)?force=true"), "remove"),
            ]
            for (reply, what) in refusals {
                #expect(reply.status == 409, "\(what): \(reply.text)")
                #expect(
                    IdentityFixtures.detail(reply)
                        == "\(world.organization.domain): site is migrating; it takes no \(what) until the migration ends",
                    "\(reply.text)")
            }
            #expect(try await world.count(tasks) == queued, "a refusal queues nothing")
            #expect(try await world.send("POST", "/v1/sites/\(world.site)/suspend").status == 202)
            let site = try await world.coordinator.client(token: world.owner).site(world.site)
            #expect(site.state == "migrating" && site.suspensionReasons == ["manual"])

            // A state this build does not know reads as active.
            try await sql(world, "UPDATE sites SET state = 'hibernating' WHERE id = '\(world.site)'")
            #expect(try await world.coordinator.client(token: world.owner).site(world.site).state == "active")
        }
    }

    @Test("a result from an agent the site is not placed on changes nothing; one from its agent does")
    func resultsFromAnotherAgent() async throws {
        try await world { world in
            let client = world.coordinator.client(token: world.owner)
            let first = try #require(try await deploy(world).json()["id"] as? String)
            #expect(try await client.site(world.site).state == "deploying")
            // The site moved meanwhile: the first deploy's failure is about the old agent's copy.
            let other = try await IdentityFixtures.addAgent(world.coordinator)
            try await sql(world, "UPDATE sites SET agent_id = '\(other)' WHERE id = '\(world.site)'")
            try await world.report(first) { $0.outcome = .failed }
            #expect(try await client.site(world.site).state == "deploying")

            let second = try #require(try await deploy(world).json()["id"] as? String)
            #expect(try await world.count("SELECT count(*) FROM tasks WHERE id = '\(second)' AND agent_id = '\(other)'") == 1)
            try await world.report(second) { result in
                result.outcome = .failed
                result.failedStep = "build"
            }
            #expect(try await client.site(world.site).state == "deploy_failed")
        }
    }
}
