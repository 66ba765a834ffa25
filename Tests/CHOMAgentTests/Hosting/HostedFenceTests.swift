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
            keeper.answered(leaseSeconds: 3)
            await keeper.applyDue()
            #expect(try world.hosting.fence.mode() == .leased)
            #expect(try await world.get("one.test").body == "<h1>one</h1>")
            #expect(world.metrics.text().contains("chom_agent_fenced 0"))

            try await Self.until("the fence is up") {
                await keeper.applyDue()
                return keeper.lease.fenced
            }
            #expect(try world.hosting.fence.isFenced() == true)
            #expect(try FileManager.default.contentsOfDirectory(atPath: world.hosting.fence.tokensDirectory).isEmpty)
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

    @Test("an agent that stops renewing (killed, stopped, hung) is fenced by nginx itself when its lease tokens run out; an answer serves again")
    func deadAgent() async throws {
        try await HostedSiteWorld.with { world in
            let state = try TemporaryDirectory.make(prefix: "h-lease")
            defer { TemporaryDirectory.remove(state) }
            for (domain, text) in [("alive.test", "<h1>alive</h1>"), ("exempt.test", "<h1>exempt</h1>")] {
                let config = HostedSiteWorld.config(domain) { $0.fenceExempt = domain == "exempt.test" }
                let deployed = await world.deploy(try world.deployTask(config, files: ["public/index.html": text]))
                #expect(deployed.outcome == .succeeded, "\(deployed.message)")
            }
            let keeper = SiteLeaseKeeper(
                fence: world.hosting.fence, stateDirectory: state, clock: SystemWallClock(), logger: Fixtures.logger)
            keeper.answered(leaseSeconds: 4)
            await keeper.applyDue()
            #expect(try world.hosting.fence.mode() == .leased)
            #expect(try await world.get("alive.test").body == "<h1>alive</h1>")
            let tokens = try FileManager.default.contentsOfDirectory(atPath: world.hosting.fence.tokensDirectory)
            #expect((2...4).contains(tokens.count), "\(tokens)")
            // An agent older than the tokens (a rollback) reads the leased file as fenced, and so
            // writes its open file at its first answer instead of leaving the sites without tokens.
            #expect(try String(contentsOfFile: world.hosting.fence.path, encoding: .utf8).hasPrefix("# Fenced:"))
            // From here the keeper never runs again, as if the agent had been killed: no reload, no
            // write; nginx stops serving when the last token's second is over.
            let started = ContinuousClock.now
            try await Self.until("nginx fences by itself", timeout: .seconds(15)) {
                try await world.get("alive.test").status == 503
            }
            let took = started.duration(to: .now)
            #expect(took < .seconds(6), "fenced \(took) after a 4 s lease")
            let answer = try await world.get("alive.test", path: "/index.html")
            #expect(answer.status == 503 && answer.body.contains("maintenance"), "\(answer)")
            #expect(try world.hosting.fence.mode() == .leased, "the file was not touched")
            #expect(try await world.get("exempt.test").body == "<h1>exempt</h1>")
            // The agent back once its lease ran out (nginx fences up to a second before the lease
            // ends): it fences first, and the next answer lifts it.
            try await Self.until("the agent's own fence") {
                await keeper.applyDue()
                return keeper.lease.fenced
            }
            #expect(try world.hosting.fence.mode() == .fenced)
            keeper.answered(leaseSeconds: 30)
            await keeper.applyDue()
            #expect(try world.hosting.fence.mode() == .leased)
            #expect(try await world.get("alive.test").body == "<h1>alive</h1>")
            // No lease any more (failover turned off): open, and no token left behind.
            keeper.answered(leaseSeconds: 0)
            await keeper.applyDue()
            #expect(try world.hosting.fence.mode() == .open)
            #expect(try FileManager.default.contentsOfDirectory(atPath: world.hosting.fence.tokensDirectory).isEmpty)
            #expect(try await world.get("alive.test").body == "<h1>alive</h1>")

            // Leased again, then a run that lost its lease record: the file says a lease was held,
            // so it counts as run out, and the sites are fenced until an answer.
            keeper.answered(leaseSeconds: 30)
            await keeper.applyDue()
            #expect(try world.hosting.fence.mode() == .leased)
            let lost = try TemporaryDirectory.make(prefix: "h-lease-lost")
            defer { TemporaryDirectory.remove(lost) }
            let amnesiac = SiteLeaseKeeper(
                fence: world.hosting.fence, stateDirectory: lost, clock: SystemWallClock(), logger: Fixtures.logger)
            await amnesiac.applyDue()
            #expect(amnesiac.lease.fenced)
            #expect(try world.hosting.fence.mode() == .fenced)
            #expect(try await world.get("alive.test").status == 503)
        }
    }

    @Test("lease tokens cover every second that ends by the deadline, at most an hour")
    func tokenSeconds() {
        let now = Date(timeIntervalSince1970: 1_800_000_000.4)
        #expect(SiteFence.tokenSeconds(now: now, deadline: now.addingTimeInterval(3)) == 1_800_000_000...1_800_000_002)
        // The current second ends after a deadline 0.5 s away: no token, nginx fences already.
        #expect(SiteFence.tokenSeconds(now: now, deadline: now.addingTimeInterval(0.5)) == nil)
        #expect(SiteFence.tokenSeconds(now: now, deadline: now.addingTimeInterval(-5)) == nil)
        #expect(SiteFence.tokenSeconds(now: now, deadline: now.addingTimeInterval(86_400))?.count == 3600)
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
