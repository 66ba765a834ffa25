import CHOMAPI
import CHOMAgent
import CHOMCoordinator
import CHOMCore
import CHOMTesting
import Foundation
import Testing

/// An agent configured with every replica's agent listener: when the replica holding its stream
/// stops, it connects to another, and its tasks go on (sequence and replay window intact).
@Suite("Agent and coordinator replicas")
struct AgentReplicaTests {
    @Test("an agent given two replicas moves to the other when its replica stops; a ping through each runs exactly once")
    func movesToAnotherReplica() async throws {
        try await LeaderReplicas.with { fleet in
            let a = try await fleet.start("a")
            let b = try await fleet.start("b")
            let portsA = try await a.coordinator.boundPorts()
            let portsB = try await b.coordinator.boundPorts()
            let clientA = try await Self.operatorClient(api: portsA.api)
            let clientB = try await Self.operatorClient(api: portsB.api)

            let state = try TemporaryDirectory.make(prefix: "chom-agent-replicas")
            defer { TemporaryDirectory.remove(state) }
            // A first, then B: the agent starts on A.
            let configuration = Self.agent(in: state, dialing: [portsA.agents, portsB.agents])
            let logger = TestLogging.logger("chom.test.agent")
            let token = try await clientA.createJoinToken(CreateJoinTokenRequest(description: "replicas", maxUses: 1)).token
            let identity = try await AgentRuntime.enroll(
                configuration: configuration, host: "127.0.0.1", port: portsA.enroll, token: token,
                caSHA256: try #require(a.coordinator.caSHA256), name: "replicated", logger: logger)
            let agentID = identity.agentID
            let runtime = AgentRuntime(configuration: configuration, logger: logger)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await runtime.run() }
                defer { group.cancelAll() }
                try await fleet.eventually("the agent online") {
                    try await clientA.agent(id: agentID.description).state == "online"
                }
                let first = try await Self.ping(clientA, agentID, fleet: fleet)
                #expect(runtime.executions(of: first.id) == 1)

                // A stops; the agent's next dial goes to B.
                try await a.stopGracefully()
                let moved = try await fleet.eventually("the agent back online through B", timeout: .seconds(30)) {
                    let metrics = runtime.metricsText()
                    return metrics.contains("chom_agent_stream_connected 1") && !metrics.contains("chom_agent_reconnects_total 0")
                }
                print("agent moved to replica b in \(moved)")
                let second = try await Self.ping(clientB, agentID, fleet: fleet)
                #expect(runtime.executions(of: second.id) == 1)
                // The envelope sequence went on from where A left it: B's was accepted, not refused as a replay.
                let entries = try [first.id, second.id].map { try #require(try runtime.journalEntry(for: $0)) }
                #expect(entries[1].sequence > entries[0].sequence, "\(entries)")
                #expect(runtime.metricsText().contains(#"chom_agent_envelope_refusals_total{reason="replayed"} 0"#))
                await runtime.beginGracefulShutdown()
                try await group.next()
            }
        }
    }

    @Test("work queued through one replica reaches an agent whose stream another holds at once, not at the next poll")
    func wakeAcrossReplicas() async throws {
        try await LeaderReplicas.with { fleet in
            // A minute between polls: only the wake can deliver within the test's deadlines.
            let slowPoll: (inout CoordinatorConfiguration) -> Void = { $0.dispatch.pollIntervalSeconds = 60 }
            let a = try await fleet.start("a", configure: slowPoll)
            let b = try await fleet.start("b", configure: slowPoll)
            let portsA = try await a.coordinator.boundPorts()
            let portsB = try await b.coordinator.boundPorts()
            let clientA = try await Self.operatorClient(api: portsA.api)

            let state = try TemporaryDirectory.make(prefix: "chom-agent-wake")
            defer { TemporaryDirectory.remove(state) }
            // Its stream is on B only; the API calls go to A.
            let configuration = Self.agent(in: state, dialing: [portsB.agents])
            let logger = TestLogging.logger("chom.test.agent")
            let agentID = try await Self.enroll(configuration, through: a, client: clientA, name: "woken")
            let runtime = AgentRuntime(configuration: configuration, logger: logger)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await runtime.run() }
                defer { group.cancelAll() }
                try await fleet.eventually("the agent online") {
                    runtime.metricsText().contains("chom_agent_stream_connected 1")
                }
                var latencies: [Duration] = []
                for _ in 0..<5 {
                    let started = ContinuousClock.now
                    let queued = try await clientA.ping(agent: agentID.description)
                    try await fleet.eventually("the ping answered", timeout: .seconds(15)) {
                        try await clientA.task(id: queued.id).state == "succeeded"
                    }
                    latencies.append(started.duration(to: .now))
                }
                print("pings queued on replica a, answered through replica b: \(latencies)")
                await runtime.beginGracefulShutdown()
                try await group.next()
            }
        }
    }

    /// An agent under `state` with fast heartbeats and reconnects, dialing these replica ports on 127.0.0.1.
    static func agent(in state: URL, dialing ports: [Int]) -> AgentConfiguration {
        var configuration = AgentConfiguration(stateDirectory: state, sitesRoot: state.appendingPathComponent("sites"))
        configuration.metricsPort = 0
        configuration.heartbeatInterval = .milliseconds(300)
        configuration.reconnect.minimumDelay = .milliseconds(50)
        configuration.reconnect.maximumDelay = .milliseconds(300)
        configuration.connectAddresses = ports.map { CoordinatorAddress(host: "127.0.0.1", port: $0) }
        return configuration
    }

    /// Enrolls an agent configured as `configuration` through `replica`'s enroll port; its id.
    static func enroll(
        _ configuration: AgentConfiguration, through replica: LeaderReplicas.Replica, client: AdminClient, name: String
    ) async throws -> AgentID {
        let token = try await client.createJoinToken(CreateJoinTokenRequest(description: name, maxUses: 1)).token
        return try await AgentRuntime.enroll(
            configuration: configuration, host: "127.0.0.1", port: try await replica.coordinator.boundPorts().enroll,
            token: token, caSHA256: try #require(replica.coordinator.caSHA256), name: name,
            logger: TestLogging.logger("chom.test.agent")
        ).agentID
    }

    static func operatorClient(api: Int) async throws -> AdminClient {
        let url = URL(string: "http://127.0.0.1:\(api)")!
        let login = try await AdminClient(baseURL: url, token: nil)
            .login(email: TestCoordinator.operatorEmail, password: TestCoordinator.operatorPassword)
        return AdminClient(baseURL: url, token: try #require(login.token))
    }

    static func ping(_ client: AdminClient, _ agent: AgentID, fleet: LeaderReplicas) async throws -> TaskResponse {
        let queued = try await client.ping(agent: agent.description)
        try await fleet.eventually("the ping answered") { try await client.task(id: queued.id).state == "succeeded" }
        return try await client.task(id: queued.id)
    }
}
