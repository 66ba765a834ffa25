import CHOMCore
package import Logging
import ServiceLifecycle
import UnixSignals

/// Process-level wiring for the `chom-agent` executable: logging to stderr and a ServiceGroup
/// that turns SIGTERM/SIGINT into a graceful shutdown.
package enum AgentProcess {
    /// Level names accepted by `--log-level`.
    package static func isValidLogLevel(_ name: String) -> Bool {
        Logger.Level(rawValue: name) != nil
    }

    /// Bootstraps swift-log to stderr at `level` (default info) and returns the agent's logger.
    package static func bootstrapLogging(level: String?) -> Logger {
        let chosen = level.flatMap(Logger.Level.init(rawValue:)) ?? .info
        LoggingSystem.bootstrap { label in DeferredMetadataLogHandler(label: label, level: chosen) }
        return Logger(label: "chom-agent")
    }

    /// Runs `runtime` until SIGTERM or SIGINT (graceful: a running task finishes first).
    package static func run(_ runtime: AgentRuntime, logger: Logger) async throws {
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [.init(service: runtime)],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        try await group.run()
    }
}

/// The logger type, named for the executable (which does not import swift-log itself).
package typealias AgentLogger = Logger
