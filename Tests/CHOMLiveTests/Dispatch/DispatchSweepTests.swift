import CHOMAPI
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

    @Test("streams do not poll on their own: an unwoken task waits for a wake, and the next wake delivers it")
    func streamsWaitForWakes() async throws {
        // A minute between sweeps: within this test only a wake can deliver.
        try await TestCoordinator.with(configure: { $0.dispatch.pollIntervalSeconds = 60 }) { coordinator in
            try await TestAgent.with(coordinator: coordinator) { agent in
                try await coordinator.waitOnline([agent.agentID])
                // The stream's first pass has run once the agent answers a woken ping.
                let first = try await coordinator.client.ping(agent: agent.agentID.description)
                try await coordinator.eventually("the first ping answered") {
                    try await coordinator.client.task(id: first.id).state == "succeeded"
                }
                let unwoken = try await Self.queueUnwoken(ping: agent.agentID, in: coordinator)
                // Three seconds, six sweeps of the other test: without a wake, nothing delivers it.
                try await Task.sleep(for: .seconds(3))
                #expect(try await coordinator.client.task(id: unwoken).state == "queued")
                // A woken ping's pass takes every queued task of the agent, the unwoken one first.
                let woken = try await coordinator.client.ping(agent: agent.agentID.description)
                try await coordinator.eventually("both answered") {
                    let a = try await coordinator.client.task(id: unwoken).state
                    let b = try await coordinator.client.task(id: woken.id).state
                    return a == "succeeded" && b == "succeeded"
                }
            }
        }
    }

    /// A ping written straight into the queue: no `NOTIFY`, no local wake.
    static func queueUnwoken(ping agent: AgentID, in coordinator: TestCoordinator) async throws -> String {
        let id = UUID().uuidString.lowercased()
        var task = Chom_Agent_V1_Task()
        task.taskID = id
        task.ping = Chom_Agent_V1_PingTask()
        let hex = Data(try task.serializedBytes() as [UInt8]).map { String(format: "%02x", $0) }.joined()
        try await TestDatabase.execute(
            """
            INSERT INTO tasks (id, agent_id, kind, payload, max_attempts, created_at, updated_at)
            VALUES ('\(id)', '\(agent)', 'ping', '\\x\(hex)', 5, now(), now())
            """, dataDirectory: coordinator.dataDirectory)
        return id
    }
}
