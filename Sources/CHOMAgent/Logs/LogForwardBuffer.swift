import CHOMCore
package import Prometheus
import Synchronization

/// The bounded buffer between what produces log lines (the sites' logs, finished tasks) and the
/// forwarder's connection: at most `capacity` framed messages. When it is full the oldest message
/// is dropped and counted (`chom_agent_log_forward_lines_total{result="dropped"}`), so a dead or
/// slow collector never blocks a task nor grows the agent's memory; what the collector took is
/// counted as `sent`.
package final class LogForwardBuffer: Sendable {
    package let capacity: Int
    private let state = Mutex<(messages: [[UInt8]], head: Int)>(([], 0))
    private let sentCounter: Counter
    private let droppedCounter: Counter

    package init(capacity: Int, registry: PrometheusCollectorRegistry) {
        self.capacity = max(1, capacity)
        sentCounter = registry.counter(
            MetricName.logForwardLines, help: "Log lines forwarded to the syslog collector, or dropped when its buffer was full",
            labels: [("result", "sent")])
        droppedCounter = registry.counter(
            MetricName.logForwardLines, help: "Log lines forwarded to the syslog collector, or dropped when its buffer was full",
            labels: [("result", "dropped")])
    }

    package var count: Int { state.withLock { $0.messages.count - $0.head } }

    package func append(_ message: SyslogMessage) {
        let framed = message.framed
        let dropped = state.withLock { state -> Bool in
            var dropped = false
            if state.messages.count - state.head >= capacity {
                state.messages[state.head] = []  // its memory goes now, not at the next compaction
                state.head += 1
                dropped = true
            }
            state.messages.append(framed)
            // Compact once the consumed prefix is as large as what is left.
            if state.head > 0, state.head * 2 >= state.messages.count {
                state.messages.removeFirst(state.head)
                state.head = 0
            }
            return dropped
        }
        if dropped { droppedCounter.increment() }
    }

    /// Takes up to `limit` messages from the front (the forwarder keeps a batch it failed to
    /// send and sends it first next time, so at most `capacity` plus one batch are held).
    package func take(_ limit: Int) -> [[UInt8]] {
        state.withLock { state in
            let end = min(state.messages.count, state.head + max(0, limit))
            let taken = Array(state.messages[state.head..<end])
            state.head = end
            if state.head == state.messages.count {
                state.messages.removeAll(keepingCapacity: true)
                state.head = 0
            }
            return taken
        }
    }

    /// Counts `count` lines dropped before they reached the buffer (over a site's share of a pass).
    package func dropped(_ count: Int) {
        if count > 0 { droppedCounter.increment(by: Int64(count)) }
    }

    /// Counts `count` messages the collector took.
    package func sent(_ count: Int) {
        sentCounter.increment(by: Int64(count))
    }
}
