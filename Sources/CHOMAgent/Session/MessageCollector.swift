package import CHOMProtocol
import Synchronization

/// Collects emitted messages (for `EnvelopeHandler.handle(_:)` and tests).
package final class MessageCollector: Sendable {
    private let storage = Mutex<[Chom_Agent_V1_AgentMessage]>([])

    package init() {}

    package func append(_ message: Chom_Agent_V1_AgentMessage) {
        storage.withLock { $0.append(message) }
    }

    package var messages: [Chom_Agent_V1_AgentMessage] { storage.withLock { $0 } }
}
