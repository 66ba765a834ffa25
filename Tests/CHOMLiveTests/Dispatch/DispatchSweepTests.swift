import CHOMAPI
import CHOMAgent
import CHOMCore
import CHOMCoordinator
import CHOMProtocol
import CHOMTesting
import SwiftProtobuf
import Foundation
import Testing

/// Dispatch is driven by wakes; the one sweep per replica (`DispatchSweepService`) finds work whose
/// wake was lost. A task written straight into the queue, as a replica that died before publishing
/// would leave it, has no wake.
@Suite("Dispatch: wakes deliver, and one sweep per replica finds work whose wake was lost")
struct DispatchSweepTests {
    @Test("a task marked sent by another stream of the agent (one that was dead) is re-sent by the live stream's sweep")
    func sweepResendsTasksSentElsewhere() async throws {
        try await TestCoordinator.with(configure: { $0.dispatch.pollIntervalSeconds = 0.5 }) { coordinator in
            try await TestAgent.with(coordinator: coordinator) { agent in
                try await coordinator.waitOnline([agent.agentID])
                // As another replica leaves it: sealed for, and written into, a half-open stream.
                let id = try await Self.queueUnwoken(ping: agent.agentID, in: coordinator, state: "sent")
                try await coordinator.eventually("the ping sent elsewhere answered", timeout: .seconds(20)) {
                    try await coordinator.client.task(id: id).state == "succeeded"
                }
                #expect(agent.runtime.executions(of: id) == 1)
            }
        }
    }

    @Test("a task queued without a wake is delivered by the sweep within its interval")
    func sweepDeliversUnwokenWork() async throws {
        try await TestCoordinator.with(configure: { $0.dispatch.pollIntervalSeconds = 0.5 }) { coordinator in
            try await TestAgent.with(coordinator: coordinator) { agent in
                try await coordinator.waitOnline([agent.agentID])
                let id = try await Self.queueUnwoken(ping: agent.agentID, in: coordinator)
                try await coordinator.eventually("the unwoken ping answered", timeout: .seconds(20)) {
                    try await coordinator.client.task(id: id).state == "succeeded"
                }
            }
        }
    }

    /// A ping written straight into the queue: no `NOTIFY`, no local wake.
    static func queueUnwoken(ping agent: AgentID, in coordinator: TestCoordinator, state: String = "queued") async throws -> String {
        let id = UUID().uuidString.lowercased()
        var task = Chom_Agent_V1_Task()
        task.taskID = id
        task.ping = Chom_Agent_V1_PingTask()
        let hex = Data(try task.serializedBytes() as [UInt8]).map { String(format: "%02x", $0) }.joined()
        try await TestDatabase.execute(
            """
            INSERT INTO tasks (id, agent_id, kind, payload, max_attempts, state, attempts, created_at, updated_at)
            VALUES ('\(id)', '\(agent)', 'ping', '\\x\(hex)', 5, '\(state)', \(state == "sent" ? 1 : 0), now(), now())
            """, dataDirectory: coordinator.dataDirectory)
        return id
    }
}
