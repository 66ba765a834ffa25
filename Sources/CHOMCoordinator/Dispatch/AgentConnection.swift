import CHOMCore
import CHOMProtocol
import Foundation
import GRPCCore

/// One agent's live Connect stream on this replica. Writes are serialized by the actor.
actor AgentConnection {
    nonisolated let agentID: AgentID
    nonisolated let connectionID = UUID()
    nonisolated let wake = WakeSignal()
    private let writer: RPCWriter<Chom_Agent_V1_CoordinatorMessage>

    init(agentID: AgentID, writer: RPCWriter<Chom_Agent_V1_CoordinatorMessage>) {
        self.agentID = agentID
        self.writer = writer
    }

    func send(_ message: Chom_Agent_V1_CoordinatorMessage) async throws {
        try await writer.write(message)
    }
}

/// The streams this replica holds, by agent. A newer stream of the same agent replaces
/// an older one. Other replicas' agents are reached through the durable queue.
actor AgentConnections {
    private var connections: [AgentID: AgentConnection] = [:]

    func register(_ connection: AgentConnection) {
        connections[connection.agentID] = connection
    }

    func unregister(_ connection: AgentConnection) {
        if connections[connection.agentID]?.connectionID == connection.connectionID {
            connections[connection.agentID] = nil
        }
    }

    /// Tells the agent's dispatcher that it has new work.
    func wake(_ agentID: AgentID) {
        connections[agentID]?.wake.signal()
    }

    var count: Int { connections.count }

    func hasConnection(_ agentID: AgentID) -> Bool { connections[agentID] != nil }
}
