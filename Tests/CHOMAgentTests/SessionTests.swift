import CHOMAgent
import CHOMCore
import CHOMProtocol
import CHOMTesting
import Foundation
import Synchronization
import Testing
import X509

@Suite("Agent session over mutual TLS")
struct SessionTests {
    @Test("the agent connects with its certificate, deploys a signed task once and answers the replay from its journal")
    func connectDeployReplay() async throws {
        let coordinator = try FakeCoordinator()
        try await Fixtures.withTemporaryDirectory { root in
            var configuration = AgentConfiguration(
                stateDirectory: root.appendingPathComponent("state"), sitesRoot: root.appendingPathComponent("sites"))
            configuration.metricsPort = 0
            configuration.reconnect.minimumDelay = .milliseconds(50)
            try await coordinator.run { enrollPort, _ in
                let identity = try await AgentRuntime.enroll(
                    configuration: configuration, host: "localhost", port: enrollPort, token: coordinator.joinToken,
                    caSHA256: coordinator.pin, logger: Fixtures.logger)
                let runtime = AgentRuntime(configuration: configuration, logger: Fixtures.logger)
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await runtime.run() }
                    let gateway = coordinator.gateway

                    let hello = try await gateway.waitFor { $0.event == .hello($0.hello) }
                    #expect(hello.hello.agentVersion == configuration.agentVersion)
                    // Without hosting configured (no nginx or php-fpm to look for) every site kind is announced.
                    #expect(hello.hello.capabilities == [
                        "site_layout_v2", "site_kind_static", "site_kind_php", "site_kind_app", "sealed_secrets_v1",
                    ])
                    // Right after the hello, the sealing key made at enrollment is registered (no CSR).
                    let registration = try await gateway.waitFor { $0.event == .renew($0.renew) }
                    #expect(registration.renew.csrPem.isEmpty)
                    #expect(registration.renew.sealingPublicKey.count == 32)
                    let heartbeat = try await gateway.waitFor { $0.event == .heartbeat($0.heartbeat) }
                    #expect(heartbeat.heartbeat.capacity.maxSites == 50)
                    #expect(heartbeat.heartbeat.facts.cpuCount > 0)
                    #expect(gateway.peers.withLock { $0 } == [identity.agentID.uuid])

                    let artifact = try Fixtures.tarZst(["index.html": "live"])
                    let task = Fixtures.deployTask(artifact: artifact)
                    gateway.artifacts.withLock { $0[task.deploy.releaseID] = artifact }
                    var message = Chom_Agent_V1_CoordinatorMessage()
                    message.envelope = try EnvelopeSealer.seal(
                        task: task, audience: identity.agentID, sequence: 1, ttl: 300, signer: coordinator.signer,
                        now: Date())
                    gateway.send(message)

                    let accepted = try await gateway.waitFor { $0.accepted.taskID == task.taskID }
                    #expect(accepted.accepted.sequence == 1)
                    let result = try await gateway.waitFor { $0.result.taskID == task.taskID }
                    #expect(result.result.outcome == .succeeded, "\(result.result.message)")
                    let page = try String(
                        contentsOfFile: result.result.releasePath + "/index.html", encoding: .utf8)
                    #expect(page == "live")

                    gateway.clearReceived()
                    gateway.send(message)
                    let replayed = try await gateway.waitFor { $0.result.taskID == task.taskID }
                    #expect(replayed.result.outcome == .succeeded)
                    #expect(runtime.executions(of: task.taskID) == 1)

                    // A new stream: the coordinator re-seals the unfinished task with a new sequence.
                    runtime.dropConnectionForTesting()
                    let deadline = ContinuousClock.now + .seconds(10)
                    while gateway.peers.withLock({ $0.count }) < 2, ContinuousClock.now < deadline {
                        try await Task.sleep(for: .milliseconds(10))
                    }
                    #expect(gateway.peers.withLock { $0.count } == 2)
                    let secondHello = try await gateway.waitFor { $0.event == .hello($0.hello) }
                    #expect(secondHello.hello.highestSequence == 1)
                    gateway.clearReceived()
                    var resealed = Chom_Agent_V1_CoordinatorMessage()
                    resealed.envelope = try EnvelopeSealer.seal(
                        task: task, audience: identity.agentID, sequence: 2, ttl: 300, signer: coordinator.signer,
                        now: Date())
                    gateway.send(resealed)
                    let answered = try await gateway.waitFor { $0.result.taskID == task.taskID }
                    #expect(answered.result.outcome == .succeeded)
                    #expect(runtime.executions(of: task.taskID) == 1)

                    let port = try await runtime.waitForMetricsPort()
                    #expect(port > 0)
                    let text = runtime.metricsText()
                    #expect(text.contains("chom_agent_stream_connected 1"))
                    #expect(text.contains(#"chom_agent_envelope_refusals_total{reason="replayed"} 1"#))
                    #expect(text.contains(#"chom_agent_tasks_total{kind="deploy",outcome="succeeded"} 1"#))

                    await runtime.beginGracefulShutdown()
                    try await group.next()
                }
            }
        }
    }
}

extension SessionTests {
    @Test("at 2/3 of its lifetime the certificate is renewed with a new key and the agent reconnects with it")
    func renewal() async throws {
        let coordinator = try FakeCoordinator()
        try await Fixtures.withTemporaryDirectory { root in
            var configuration = AgentConfiguration(
                stateDirectory: root.appendingPathComponent("state"), sitesRoot: root.appendingPathComponent("sites"))
            configuration.metricsPort = 0
            try await coordinator.run { enrollPort, _ in
                let identity = try await AgentRuntime.enroll(
                    configuration: configuration, host: "127.0.0.1", port: enrollPort, token: coordinator.joinToken,
                    caSHA256: coordinator.pin, logger: Fixtures.logger)
                // The enrolled certificate lives an hour: 50 minutes later it is due.
                let clock = ManualWallClock(Date().addingTimeInterval(50 * 60))
                let runtime = AgentRuntime(configuration: configuration, logger: Fixtures.logger, clock: clock)
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await runtime.run() }
                    let gateway = coordinator.gateway
                    _ = try await gateway.waitFor { $0.event == .renew($0.renew) && !$0.renew.csrPem.isEmpty }
                    let deadline = ContinuousClock.now + .seconds(10)
                    while gateway.peerSerials.withLock({ $0.count }) < 2, ContinuousClock.now < deadline {
                        try await Task.sleep(for: .milliseconds(10))
                    }
                    let serials = gateway.peerSerials.withLock { $0 }
                    #expect(serials.count == 2)
                    #expect(Set(serials).count == serials.count)
                    #expect(gateway.peers.withLock { $0 } == [identity.agentID.uuid, identity.agentID.uuid])

                    let store = AgentIdentityStore(directory: configuration.identityDirectory)
                    let renewed = try #require(try store.load())
                    #expect(renewed.privateKeyPEM != identity.privateKeyPEM)
                    #expect(renewed.certificatePEM != identity.certificatePEM)
                    #expect(renewed.certificate.notValidAfter > identity.certificate.notValidAfter)
                    #expect(runtime.metricsText().contains("chom_agent_reconnects_total 1"))
                    await runtime.beginGracefulShutdown()
                    try await group.next()
                }
            }
        }
    }
}

extension SessionTests {
    /// An agent enrolled with a fake coordinator that is then gone, with fast retries.
    static func enrolledAlone(
        _ coordinator: FakeCoordinator, root: URL, _ configure: (inout AgentConfiguration) -> Void
    ) async throws -> AgentConfiguration {
        var configuration = AgentConfiguration(
            stateDirectory: root.appendingPathComponent("state"), sitesRoot: root.appendingPathComponent("sites"))
        configuration.metricsPort = 0
        configuration.reconnect.minimumDelay = .milliseconds(20)
        configure(&configuration)
        try await coordinator.run { enrollPort, _ in
            try await AgentRuntime.enroll(
                configuration: configuration, host: "127.0.0.1", port: enrollPort, token: coordinator.joinToken,
                caSHA256: coordinator.pin, logger: Fixtures.logger)
        }
        return configuration
    }

    /// Runs the agent until it has counted three reconnects (or 30 s passed), then stops it;
    /// the time the stop took.
    static func runUntilThreeReconnects(_ runtime: AgentRuntime) async throws -> Duration {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await runtime.run() }
            // At least three attempts (a loaded machine may poll after the fourth).
            func reconnects() -> Int {
                let line = runtime.metricsText().split(separator: "\n")
                    .first { $0.hasPrefix("chom_agent_reconnects_total ") }
                return line.flatMap { Double($0.split(separator: " ").last ?? "") }.map { Int($0) } ?? 0
            }
            let deadline = ContinuousClock.now + .seconds(30)
            while reconnects() < 3, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(10))
            }
            #expect(reconnects() >= 3)
            #expect(runtime.metricsText().contains("chom_agent_stream_connected 0"))
            let stopping = ContinuousClock.now
            await runtime.beginGracefulShutdown()
            try await group.next()
            return ContinuousClock.now - stopping
        }
    }

    @Test("while the coordinator is away the agent retries with backoff, and stops promptly on shutdown")
    func reconnects() async throws {
        let coordinator = try FakeCoordinator()
        try await Fixtures.withTemporaryDirectory { root in
            let configuration = try await Self.enrolledAlone(coordinator, root: root) {
                $0.reconnect.maximumDelay = .milliseconds(100)
            }
            // The coordinator is gone now: every attempt is refused.
            let stop = try await Self.runUntilThreeReconnects(AgentRuntime(configuration: configuration, logger: Fixtures.logger))
            // A hang guard, not a speed goal: the suite shares two cores.
            #expect(stop < .seconds(15))
        }
    }

    @Test("a coordinator that takes the connection and never answers is given up on after the accept timeout, again and again")
    func blackHole() async throws {
        let coordinator = try FakeCoordinator()
        try await Fixtures.withTemporaryDirectory { root in
            let configuration = try await Self.enrolledAlone(coordinator, root: root) {
                $0.reconnect.maximumDelay = .milliseconds(50)
                $0.reconnect.acceptTimeout = .milliseconds(300)
            }
            // The coordinator's agent port is now a listener that never accepts, let alone answers TLS.
            let hole = try HeldPort()
            defer { hole.close() }
            let store = AgentIdentityStore(directory: configuration.identityDirectory)
            var identity = try #require(try store.load())
            identity.record.connectPort = hole.port
            try store.save(identity)
            // Without the accept timeout the first dial waits forever and no reconnect is counted.
            _ = try await Self.runUntilThreeReconnects(AgentRuntime(configuration: configuration, logger: Fixtures.logger))
        }
    }
}
