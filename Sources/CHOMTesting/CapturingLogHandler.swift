package import Logging
package import Synchronization

/// A log handler that keeps every entry (level, message, metadata), for tests that assert what
/// was logged.
package struct CapturingLogHandler: LogHandler {
    package let sink: LogSink
    package var metadata: Logger.Metadata = [:]
    package var logLevel: Logger.Level = .trace

    package subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    package func log(event: LogEvent) {
        // The handler's own metadata (a logger's `[metadataKey:]`) with the line's on top.
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        sink.entries.withLock { $0.append((event.level, "\(event.message)", merged)) }
    }

    /// A logger at `trace` level and the sink that keeps its entries.
    package static func logger(label: String = "test") -> (Logger, LogSink) {
        let sink = LogSink()
        return (Logger(label: label) { _ in CapturingLogHandler(sink: sink) }, sink)
    }
}

package final class LogSink: Sendable {
    package let entries = Mutex<[(level: Logger.Level, message: String, metadata: Logger.Metadata)]>([])

    package init() {}

    /// The entries whose message is `message`.
    package func entries(_ message: String) -> [(level: Logger.Level, message: String, metadata: Logger.Metadata)] {
        entries.withLock { $0.filter { $0.message == message } }
    }
}
