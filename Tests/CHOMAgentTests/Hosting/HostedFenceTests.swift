import CHOMAgent
import CHOMCore
import CHOMProtocol
import CHOMTesting
import Foundation
import Testing

/// Fencing through a real nginx: once the site lease runs out, every site the agent hosts answers
/// 503 (the maintenance page), whatever its tenant put in its tree; an answer lifts it; a fence
/// survives a restart of the agent.
@Suite("Site fence through a real nginx", .enabled(if: LiveSites.isRoot && TestNginx.binary != nil, Comment(rawValue: LiveSites.rootOnly)))
struct HostedFenceTests {
    @Test("a lease that runs out fences every path of every site with a 503; the next answer serves them again")
    func fenceAndLift() async throws {
        try await HostedSiteWorld.with { world in
            let state = try TemporaryDirectory.make(prefix: "h-lease")
            defer { TemporaryDirectory.remove(state) }
            for (domain, text) in [("one.test", "<h1>one</h1>"), ("two.test", "<h1>two</h1>"), ("exempt.test", "<h1>exempt</h1>")] {
                // Failover is off for exempt.test: nothing else would serve it, so no fence applies.
                let config = HostedSiteWorld.config(domain) { $0.fenceExempt = domain == "exempt.test" }
                let deployed = await world.deploy(try world.deployTask(
                    config, files: ["public/index.html": text, "public/.env": "SECRET=1"]))
                #expect(deployed.outcome == .succeeded, "\(deployed.message)")
            }
            let keeper = SiteLeaseKeeper(
                fence: world.hosting.fence, stateDirectory: state, metrics: world.metrics, clock: SystemWallClock(),
                logger: Fixtures.logger)
            keeper.answered(leaseSeconds: 1)
            await keeper.applyDue()
            #expect(try await world.get("one.test").body == "<h1>one</h1>")
            #expect(world.metrics.text().contains("chom_agent_fenced 0"))

            try await Self.until("the fence is up") {
                await keeper.applyDue()
                return keeper.lease.fenced
            }
            #expect(try world.hosting.fence.isFenced() == true)
            for domain in ["one.test", "two.test"] {
                for path in ["/", "/index.html", "/.env", "/missing"] {
                    let answer = try await world.get(domain, path: path)
                    #expect(answer.status == 503, "\(domain)\(path)")
                    #expect(answer.body.contains("maintenance"), "\(domain)\(path): \(answer.body)")
                }
            }
            #expect(world.metrics.text().contains("chom_agent_fenced 1"))
            #expect(try await world.get("exempt.test").body == "<h1>exempt</h1>")

            keeper.answered(leaseSeconds: 30)
            await keeper.applyDue()
            #expect(!keeper.lease.fenced)
            #expect(try await world.get("one.test").body == "<h1>one</h1>")
            #expect(try await world.get("two.test").body == "<h1>two</h1>")
            #expect(try await world.get("two.test", path: "/.env").status == 403)
        }
    }

    @Test("a fence survives a restart until an answer; a lease that ran out while the agent was down fences at once")
    func restart() async throws {
        try await HostedSiteWorld.with { world in
            let state = try TemporaryDirectory.make(prefix: "h-lease")
            defer { TemporaryDirectory.remove(state) }
            let deployed = await world.deploy(try world.deployTask(
                HostedSiteWorld.config("kept.test"), files: ["public/index.html": "<h1>kept</h1>"]))
            #expect(deployed.outcome == .succeeded, "\(deployed.message)")
            // The wall clock is the one that survives a restart; the monotonic one starts afresh.
            let wall = ManualWallClock(Date())
            let make = {
                SiteLeaseKeeper(fence: world.hosting.fence, stateDirectory: state, clock: wall, logger: Fixtures.logger)
            }
            let first = make()
            first.answered(leaseSeconds: 1)
            try await Self.until("the fence is up") {
                await first.applyDue()
                return first.lease.fenced
            }
            // The agent restarts while fenced: the new run keeps the fence until an answer.
            let second = make()
            #expect(second.lease.fenced)
            await second.applyDue()
            let fenced = try await world.get("kept.test")
            let onDisk = try world.hosting.fence.isFenced()
            #expect(fenced.status == 503, "\(fenced) \(onDisk as Any)")
            second.answered(leaseSeconds: 2)
            await second.applyDue()
            #expect(try await world.get("kept.test").body == "<h1>kept</h1>")

            // Down longer than the lease it last had: the next run fences before any answer.
            wall.advance(by: 3600)
            let third = make()
            #expect(!third.lease.fenced)
            await third.applyDue()
            #expect(third.lease.fenced)
            #expect(try await world.get("kept.test").status == 503)
        }
    }

    static func until(_ what: String, timeout: Duration = .seconds(15), _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("timed out waiting for \(what)")
        throw CHOMError(.unavailable, "timed out waiting for \(what)")
    }
}
