import CHOMCore
import CHOMProtocol
import Foundation
import GRPCCore
import Synchronization

/// One agent's live Connect stream on this replica. Writes are serialized by the actor.
actor AgentConnection {
    nonisolated let agentID: AgentID
    nonisolated let connectionID = UUID()
    nonisolated let wake = WakeSignal()
    /// The open tasks sent on this stream (the dispatcher's record; the sweep reads it to find a
    /// task sent on another stream of the agent, one that may have been dead).
    nonisolated let sent = SentTasks()
    /// Set once a newer stream of the agent took over here, this one ended, or a send on it failed:
    /// its dispatcher stops, so nothing more is sent on, or counted against, a stream that is dead
    /// (a send that fails is not retried on it every second until the delivery limit).
    nonisolated let retired = RetiredFlag()
    /// When the dispatcher's pass in progress began (nil between passes).
    nonisolated let pass = DispatchPassWatch()

    /// Retires the stream and wakes its dispatcher, which then ends.
    nonisolated func retire() {
        retired.set()
        wake.signal()
    }
    /// The highest envelope sequence the agent said (hello) it had accepted: it answers any
    /// envelope at or below it from its journal, or refuses it as a replay, so re-sending one is
    /// not a delivery attempt.
    nonisolated let acceptedThrough: Int64
    private let writer: RPCWriter<Chom_Agent_V1_CoordinatorMessage>

    init(agentID: AgentID, acceptedThrough: Int64 = 0, writer: RPCWriter<Chom_Agent_V1_CoordinatorMessage>) {
        self.agentID = agentID
        self.acceptedThrough = acceptedThrough
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
    /// Tells the other replicas (`WakeBus`); nil: this replica is alone (tests).
    private let publish: (@Sendable (AgentID) async -> Void)?

    init(publish: (@Sendable (AgentID) async -> Void)? = nil) {
        self.publish = publish
    }

    /// Holds the stream, retiring an older one of the agent here.
    func register(_ connection: AgentConnection) {
        if let older = connections[connection.agentID], older.connectionID != connection.connectionID { older.retire() }
        connections[connection.agentID] = connection
    }

    func unregister(_ connection: AgentConnection) {
        connection.retire()
        if connections[connection.agentID]?.connectionID == connection.connectionID {
            connections[connection.agentID] = nil
        }
    }


    /// Tells the agent's dispatcher that it has new work: this replica's, or through `WakeBus` the
    /// one of the replica that holds the agent's stream.
    func wake(_ agentID: AgentID) async {
        if let connection = connections[agentID] {
            connection.wake.signal()
        } else {
            await publish?(agentID)
        }
    }

    /// A wake another replica published: only this replica's stream, never published again.
    func wakeLocal(_ agentID: AgentID) {
        connections[agentID]?.wake.signal()
    }

    var count: Int { connections.count }

    /// The streams this replica holds, by agent.
    var held: [AgentID: AgentConnection] { connections }

    func hasConnection(_ agentID: AgentID) -> Bool { connections[agentID] != nil }
}

/// Task ids, shared by a stream's dispatcher and its replica's sweep.
final class SentTasks: Sendable {
    private let ids = Mutex<Set<TaskID>>([])

    func contains(_ id: TaskID) -> Bool { ids.withLock { $0.contains(id) } }

    func insert(_ id: TaskID) { ids.withLock { _ = $0.insert(id) } }

    /// Forgets the tasks that are no longer open.
    func keep(only open: Set<TaskID>) { ids.withLock { $0.formIntersection(open) } }
}

/// Set once, read by the stream's dispatcher.
final class RetiredFlag: Sendable {
    private let state = Mutex(false)

    var value: Bool { state.withLock { $0 } }

    func set() { state.withLock { $0 = true } }
}

/// When a stream's dispatch pass in progress began. A pass that never ends (postgres-nio 1.33.2 can
/// leave a query that was in flight when PostgreSQL restarted unanswered for good) would leave the
/// agent's work queued for good on a stream that otherwise works: the heartbeat answers stop (see
/// `AgentMessageHandler`), so the agent leaves the stream for a fresh one.
final class DispatchPassWatch: Sendable {
    private let started = Mutex<ContinuousClock.Instant?>(nil)

    func begin(at now: ContinuousClock.Instant = .now) { started.withLock { $0 = now } }
    func end() { started.withLock { $0 = nil } }

    /// Whether the pass in progress began `limit` or longer before `now`.
    func isStuck(after limit: Duration, now: ContinuousClock.Instant = .now) -> Bool {
        started.withLock { $0.map { $0.duration(to: now) >= limit } ?? false }
    }
}
