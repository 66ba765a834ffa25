import CHOMAPI
import CHOMAgent
import CHOMCore
import CHOMTesting
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The multi-host harness: agents as real `chom-agent` processes, each in a network namespace of
/// its own with its own address and nginx, a coordinator in the root namespace on the bridge.
@Suite(
    "Namespace harness",
    .enabled(if: NamespaceHarness.isAvailable, "\(NamespaceHarness.unavailableReason ?? "")"))
struct NamespaceHarnessTests {
    @Test("three hosts enroll from their own addresses and each serves only the site deployed onto it")
    func threeHostsServeTheirOwnSites() async throws {
        var runID = ""
        try await NamespaceHarness.with(hosts: 3) { harness in
            runID = harness.network.runID
            let addresses = harness.hosts.map(\.address)
            #expect(Set(addresses).count == 3)
            let subnet = harness.network.gateway.split(separator: ".").dropLast().joined(separator: ".") + "."
            #expect(harness.network.gateway.hasPrefix("198.18."))
            #expect(addresses.allSatisfy { $0.hasPrefix(subnet) && $0 != harness.network.gateway }, "\(addresses)")

            // Each agent's stream comes from its namespace's address (the coordinator fills in the
            // host of the 0.0.0.0 metrics address from the stream's peer).
            let agents = try await harness.coordinator.client.agents()
            let targets = try await harness.metricsTargets()
            for host in harness.hosts {
                let id = try #require(host.agentID?.description)
                #expect(agents.first { $0.id == id }?.state == "online")
                #expect(agents.first { $0.id == id }?.name == host.name)
                #expect(targets[id] == "\(host.address):9464", "\(targets)")
            }

            var placements: [String: NamespaceHost] = [:]
            for number in 1...3 {
                let domain = "site\(number).harness.test"
                let site = try await harness.coordinator.createSite(domain: domain)
                let host = try #require(harness.host(agentID: site.agentId), "\(domain) placed on \(site.agentId ?? "none")")
                placements[domain] = host
                let task = try await harness.coordinator.waitForTask(
                    try await harness.coordinator.deploy(
                        site: domain, files: ["public/index.html": "<h1>\(domain) on \(host.name)</h1>"]
                    ).id, timeout: .seconds(60))
                #expect(task.state == "succeeded", "\(task.message ?? "") — log \(host.agentLog.path)")
            }
            for (domain, owner) in placements {
                // A reload's old workers may answer once more with the old configuration: poll.
                var reply = try await harness.fetch(host: owner, hostHeader: domain)
                let deadline = ContinuousClock.now + .seconds(10)
                while reply.status != 200, ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(100))
                    reply = try await harness.fetch(host: owner, hostHeader: domain)
                }
                #expect(reply.status == 200 && reply.text == "<h1>\(domain) on \(owner.name)</h1>", "\(reply.status) \(reply.text)")
                for other in harness.hosts where other !== owner {
                    let elsewhere = try await harness.fetch(host: other, hostHeader: domain)
                    #expect(elsewhere.status == 404, "\(domain) on \(other.name): \(elsewhere.status)")
                }
                // Host to host, inside the namespaces: the bridge carries it.
                let neighbour = try #require(harness.hosts.first { $0 !== owner })
                let inside = try await neighbour.fetchInside("http://\(owner.address)/", hostHeader: domain)
                #expect(inside.status == 200 && inside.text.contains(domain), "\(inside.status) \(inside.text)")
            }
            // A namespace has no route out: only its /24 and loopback.
            let routes = try await harness.hosts[0].run(["ip", "-4", "route", "show"])
            #expect(routes.succeeded && !routes.outputText.contains("default"), "\(routes.outputText)")
        }
        #expect(try await Self.leftovers(of: runID).isEmpty)
    }

    @Test("a disconnected host goes offline at the coordinator; reconnected, it is online again")
    func partitionAndHeal() async throws {
        var runID = ""
        try await NamespaceHarness.with(hosts: 2) { harness in
            runID = harness.network.runID
            let (cut, kept) = (harness.hosts[0], harness.hosts[1])
            try await cut.disconnect()
            await #expect(throws: (any Error).self) { _ = try await harness.fetch(host: cut, hostHeader: "x.test", timeout: .seconds(1)) }
            try await harness.waitState("offline", [cut], timeout: .seconds(60))
            try await harness.waitOnline([kept], timeout: .seconds(1))
            try await cut.reconnect()
            try await harness.waitOnline([cut], timeout: .seconds(60))
            #expect(try await harness.fetch(host: cut, hostHeader: "unknown.test").status == 404)
        }
        #expect(try await Self.leftovers(of: runID).isEmpty)
    }

    @Test("a killed host stops answering; its agent restarted on the same state is online and serving again")
    func killAndRestart() async throws {
        try await NamespaceHarness.with(hosts: 1) { harness in
            let host = harness.hosts[0]
            let site = try await harness.coordinator.createSite(domain: "crash.harness.test")
            #expect(site.agentId == host.agentID?.description)
            let task = try await harness.coordinator.waitForTask(
                try await harness.coordinator.deploy(site: "crash.harness.test", files: ["public/index.html": "before"]).id,
                timeout: .seconds(60))
            #expect(task.state == "succeeded", "\(task.message ?? "")")
            try await host.kill()
            #expect(host.agentPID == nil)
            let survivors = try await CommandRunner().run(CommandRunner.Command("/usr/sbin/ip", ["netns", "pids", host.name]))
            #expect(survivors.succeeded && survivors.outputText.isEmpty, "left in \(host.name): \(survivors.outputText)")
            await #expect(throws: (any Error).self) { _ = try await harness.fetch(host: host, hostHeader: "crash.harness.test") }

            try host.startAgent()
            try await harness.waitOnline([host], timeout: .seconds(30))
            try await harness.coordinator.eventually("the site served again") {
                (try? await harness.fetch(host: host, hostHeader: "crash.harness.test"))?.text == "before"
            }
            #expect(FileManager.default.fileExists(atPath: host.agentLog.path + ".1"))
        }
    }

    @Test("a coordinator the hosts cannot reach fails the harness with the agent's error, and leaves nothing behind")
    func unreachableCoordinator() async throws {
        var runID = ""
        await #expect {
            try await NamespaceNetwork.with(hosts: 1) { network in
                runID = network.runID
                // Not configured for the network: it listens on 127.0.0.1 only.
                try await TestCoordinator.with { coordinator in
                    try await NamespaceHarness.with(coordinator: coordinator, network: network) { _ in }
                }
            }
        } throws: { error in
            "\(error)".contains("chom-agent enroll failed in \(NamespaceNetwork.prefix)-\(runID)-1")
        }
        #expect(try await Self.leftovers(of: runID).isEmpty)
    }

    @Test("the script refuses bad names, and cleanup-stale removes a dead owner's run but never a live one's")
    func staleRunsAndValidation() async throws {
        await #expect(throws: CHOMError.self) { try await NamespaceNetwork.script(["up", "Bad-Id", "2"]) }
        await #expect(throws: CHOMError.self) { try await NamespaceNetwork.script(["up", "ok1", "100"]) }

        let dead = "d" + String(UUID().uuidString.lowercased().filter(\.isHexDigit).prefix(5))
        let live = "l" + String(UUID().uuidString.lowercased().filter(\.isHexDigit).prefix(5))
        // The owner of `dead`: a process that ends (and is reaped) once the run is up.
        let sleeper = Process()
        sleeper.executableURL = URL(fileURLWithPath: "/bin/sleep")
        sleeper.arguments = ["60"]
        try sleeper.run()
        try await NamespaceNetwork.script(["up", dead, "2"], owner: sleeper.processIdentifier)
        kill(sleeper.processIdentifier, SIGKILL)  // SIGTERM may be ignored, inherited from the test runner
        sleeper.waitUntilExit()
        #expect(try await !Self.leftovers(of: dead).isEmpty)
        await #expect(throws: CHOMError.self) { try await NamespaceNetwork.script(["exec", live, "1", "--", "true"]) }

        // `up` removes what dead owners left before it makes anything.
        try await NamespaceNetwork.script(["up", live, "1"])
        #expect(try await Self.leftovers(of: dead).isEmpty)
        try await NamespaceNetwork.script(["cleanup-stale"])
        #expect(try await Self.leftovers(of: live).count >= 3, "a live owner's run was removed")
        let inside = try await NamespaceNetwork.script(["exec", live, "1", "--", "ip", "-4", "-o", "addr", "show", "eth0"])
        #expect(inside.contains("198.18."))
        try await NamespaceNetwork.script(["down", live])
        #expect(try await Self.leftovers(of: live).isEmpty)
    }

    static func leftovers(of runID: String) async throws -> [String] {
        #expect(!runID.isEmpty)
        return try await NamespaceNetwork.leftovers(of: runID)
    }
}
