import CHOMAPI
import CHOMCore
import CHOMCoordinator
import CHOMTesting
import Foundation
import Testing

/// The leader's failure detector against a real agent: silent, it goes suspect then offline
/// (audited, counted, its detection delay observed); heard again, it is online.
@Suite("Failure detection: online → suspect → offline → online")
struct FailureDetectionLiveTests {
    @Test("a stopped agent is suspect, then declared failed and audited; restarted on its state, it recovers")
    func stopAndRestart() async throws {
        let state = try TemporaryDirectory.make(prefix: "chom-agent-fd")
        defer { TemporaryDirectory.remove(state) }
        try await TestCoordinator.with(configure: {
            $0.agents.heartbeatTTLSeconds = 2
            $0.agents.failureGraceSeconds = 2
        }) { coordinator in
            let agentID = try await TestAgent.with(coordinator: coordinator, stateDirectory: state) { agent in
                try await coordinator.waitOnline([agent.agentID])
                // `waitOnline` reads the state; health is the detector's, written at its next pass.
                try await coordinator.eventually("health online") {
                    try await coordinator.client.agent(id: agent.agentID.description).health == "online"
                }
                return agent.agentID
            }
            // A machine loaded enough to delay heartbeats past the 2 s TTL makes the agent suspect
            // and online again before the stop: what the stop does is counted from here.
            let baseline = coordinator.coordinator.metrics.exposition()
            let suspectedBefore = Self.counter(#"chom_coordinator_agent_health_transitions_total{from="online",to="suspect"}"#, in: baseline)
            let recoveredBefore = try await coordinator.client.allAuditEntries(AuditFilter(action: "agent.recovered")).count
            // Stopped: every observation is recorded in order through suspect to offline.
            var seen: [String] = []
            try await coordinator.eventually("the agent declared failed", timeout: .seconds(30)) {
                let health = try await coordinator.client.agent(id: agentID.description).health
                if seen.last != health { seen.append(health) }
                return health == "offline"
            }
            #expect(seen.contains("suspect"), "\(seen)")
            #expect(!seen.contains("online") || seen.firstIndex(of: "online")! < seen.firstIndex(of: "suspect")!, "\(seen)")
            let failed = try await coordinator.client.allAuditEntries(AuditFilter(action: "agent.failed"))
            #expect(failed.count == 1)
            #expect(failed.first?.target == "agent:\(agentID)")
            #expect(failed.first?.actor == "system")
            let silence = Double(failed.first?.details["silence_seconds"] ?? "") ?? 0
            // The audit entry rounds to a tenth: 4.04 s of silence reads "4.0", 3.94 s would read "3.9".
            #expect(silence >= 4, "declared failed after TTL + grace (4 s) of silence, not before: \(silence)")
            // The detector's pass commits the verdict, then counts it: polled, the API can see the
            // row in between.
            try await coordinator.eventually("the detector's counters") {
                let metrics = coordinator.coordinator.metrics.exposition()
                return Self.counter(#"chom_coordinator_agent_health_transitions_total{from="online",to="suspect"}"#, in: metrics)
                    == suspectedBefore + 1
                    && metrics.contains(#"chom_coordinator_agent_health_transitions_total{from="suspect",to="offline"} 1"#)
                    && metrics.contains(#"chom_coordinator_agent_health{health="offline"} 1"#)
                    && metrics.contains("chom_coordinator_agent_failure_detection_seconds_count 1")
            }
            // The per-agent verdict the CHOMAgentDown alert reads, from the database on every replica.
            func verdict(_ health: String, in exposition: String) -> Double? {
                exposition.split(separator: "\n").first {
                    $0.hasPrefix(MetricName.coordinatorAgentHealthState + "{")
                        && $0.contains(#"chom_agent_id="\#(agentID)""#) && $0.contains(#"health="\#(health)"}"#)
                }.flatMap { Double($0.split(separator: " ").last ?? "") }
            }
            try await coordinator.eventually("the agent's verdict gauge at offline") {
                let text = coordinator.coordinator.metrics.exposition()
                return verdict("offline", in: text) == 1 && verdict("online", in: text) == 0 && verdict("suspect", in: text) == 0
            }

            // Back on the same state: heard from again, it is online, and that is audited too.
            try await TestAgent.with(coordinator: coordinator, stateDirectory: state) { agent in
                #expect(agent.agentID == agentID)
                try await coordinator.eventually("the agent online again", timeout: .seconds(30)) {
                    try await coordinator.client.agent(id: agentID.description).health == "online"
                }
                let recovered = try await coordinator.client.allAuditEntries(AuditFilter(action: "agent.recovered"))
                #expect(recovered.count == recoveredBefore + 1)
                #expect(recovered.first?.details["from"] == "offline")
                try await coordinator.eventually("the recovery counted") {
                    let after = coordinator.coordinator.metrics.exposition()
                    return after.contains(#"chom_coordinator_agent_health_transitions_total{from="offline",to="online"} 1"#)
                        && after.contains(#"chom_coordinator_agent_health{health="online"} 1"#)
                }
            }
        }
    }

    /// A counter's value in a Prometheus exposition (0 when absent).
    static func counter(_ series: String, in exposition: String) -> Int {
        for line in exposition.split(separator: "\n") where line.hasPrefix(series + " ") {
            return Int(Double(line.dropFirst(series.count + 1).trimmingCharacters(in: .whitespaces)) ?? 0)
        }
        return 0
    }
}
