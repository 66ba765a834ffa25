import CHOMCore
import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle

/// Wakes, across replicas, the dispatcher of an agent whose stream another replica holds. A replica
/// that queued work for an agent it does not hold publishes `NOTIFY chom_agent_wake, '<agent id>'`;
/// every replica LISTENs on a connection of its own and wakes its stream of that agent at once.
/// The dispatchers' poll (`dispatch.pollIntervalSeconds`) stays, for a notification lost while a
/// listener reconnects.
enum WakeBus {
    static let channel = "chom_agent_wake"

    /// `pg_notify` through the pool; a failure is logged (the sweep delivers the work later).
    static func publisher(_ client: PostgresClient, logger: Logger) -> @Sendable (AgentID) async -> Void {
        { agent in
            do {
                try await client.query("SELECT pg_notify(\(channel), \(agent.description))", logger: logger)
            } catch {
                logger.warning("agent wake not published", metadata: [LogKey.agentID: "\(agent)", LogKey.error: "\(error)"])
            }
        }
    }
}

/// Listens for `WakeBus` notifications until shutdown, reconnecting with backoff when its
/// connection drops.
struct WakeListenerService: Service {
    let database: PostgresClient.Configuration
    let connections: AgentConnections
    let logger: Logger
    /// Called once the LISTEN is in place (tests).
    var onListening: @Sendable () -> Void = {}

    func run() async throws {
        let database = self.database, connections = self.connections, logger = self.logger, onListening = self.onListening
        await cancelWhenGracefulShutdown {
            var delay: Duration = .milliseconds(200)
            while !Task.isCancelled {
                do {
                    try Task.checkCancellation()
                    let connection = try await DedicatedConnection.open(database, logger: logger)
                    // Cancellation (a shutdown) closes the connection, which ends the notification
                    // sequence whatever state the LISTEN is in: a cancellation that lands while the
                    // LISTEN starts is otherwise lost, and the service would never end.
                    do {
                        try await withTaskCancellationHandler {
                            try await connection.listen(on: WakeBus.channel) { notifications in
                                onListening()
                                delay = .milliseconds(200)
                                for try await notification in notifications {
                                    guard let agent = AgentID(notification.payload) else { continue }
                                    await connections.wakeLocal(agent)
                                }
                            }
                        } onCancel: {
                            _ = connection.close() as EventLoopFuture<Void>
                        }
                    } catch {
                        await DedicatedConnection.close(connection, logger: logger)
                        throw error
                    }
                    await DedicatedConnection.close(connection, logger: logger)
                } catch {
                    if Task.isCancelled { return }
                    logger.warning("agent wake listener lost its connection", metadata: [LogKey.error: "\(error)"])
                }
                try? await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(5))
            }
        }
    }
}
