package import Logging

/// swift-log's `StreamLogHandler` output (the same lines, to stderr or stdout), with its metadata
/// formatted when a line is written instead of each time a key is set.
///
/// `StreamLogHandler` re-renders all of a logger's metadata on every `logger[metadataKey:] = …`.
/// PostgresNIO sets a key for each query and Hummingbird one for each request, so a busy
/// coordinator rendered metadata thousands of times a second for lines its log level then dropped
/// (seen in stack samples of a coordinator under load). Here a set is a dictionary write; the
/// rendering happens only for a line that is written.
package struct DeferredMetadataLogHandler: LogHandler {
    private var output: StreamLogHandler
    package var metadata: Logger.Metadata = [:]

    package enum Stream: Sendable { case standardError, standardOutput }

    package init(label: String, stream: Stream = .standardError, level: Logger.Level = .info) {
        switch stream {
        case .standardError: output = StreamLogHandler.standardError(label: label, metadataProvider: nil)
        case .standardOutput: output = StreamLogHandler.standardOutput(label: label, metadataProvider: nil)
        }
        output.logLevel = level
    }

    /// Lines to `stream` (tests read them).
    package init(label: String, stream: any TextOutputStream & Sendable, level: Logger.Level = .info) {
        output = StreamLogHandler(label: label, stream: stream, metadataProvider: nil)
        output.logLevel = level
    }

    package var logLevel: Logger.Level {
        get { output.logLevel }
        set { output.logLevel = newValue }
    }

    package subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    package func log(event: LogEvent) {
        var event = event
        // The line's own metadata wins over the logger's, as with StreamLogHandler.
        if !metadata.isEmpty {
            event.metadata = metadata.merging(event.metadata ?? [:]) { _, explicit in explicit }
        }
        output.log(event: event)
    }
}
