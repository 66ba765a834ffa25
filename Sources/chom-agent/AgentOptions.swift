import ArgumentParser
import CHOMAgent
import Foundation

/// Options shared by `enroll` and `run`, with their environment fallbacks.
struct AgentOptions: ParsableArguments {
    static let defaultStateDirectory = "/var/lib/chom-agent"
    static let defaultSitesRoot = "/srv/chom/sites"

    @Option(
        name: .customLong("state-dir"),
        help: ArgumentHelp(
            "Where the agent keeps its identity and journal (env CHOM_AGENT_STATE_DIR; default \(defaultStateDirectory)).",
            valueName: "dir"))
    var stateDirectory: String?

    @Option(
        name: .customLong("sites-root"),
        help: ArgumentHelp(
            "Root of the hosted sites, one directory per domain (env CHOM_AGENT_SITES_ROOT; default \(defaultSitesRoot)).",
            valueName: "dir"))
    var sitesRoot: String?

    @Option(
        name: .customLong("metrics-port"),
        help: ArgumentHelp("Port of the Prometheus /metrics endpoint; 0 picks a free one (env CHOM_AGENT_METRICS_PORT; default 9464).",
                           valueName: "port"))
    var metricsPort: Int?

    @Option(
        name: .customLong("log-level"),
        help: ArgumentHelp("trace, debug, info, notice, warning, error or critical (env CHOM_AGENT_LOG_LEVEL; default info).",
                           valueName: "level"))
    var logLevel: String?

    func validate() throws {
        if let metricsPort, !(0...65535).contains(metricsPort) {
            throw ValidationError("--metrics-port must be between 0 and 65535")
        }
        if let level = logLevel ?? Self.environment("CHOM_AGENT_LOG_LEVEL"), !AgentProcess.isValidLogLevel(level) {
            throw ValidationError("unknown log level '\(level)'")
        }
    }

    /// The configuration from flags, then environment, then defaults.
    func configuration() throws -> AgentConfiguration {
        let state = stateDirectory ?? Self.environment("CHOM_AGENT_STATE_DIR") ?? Self.defaultStateDirectory
        let sites = sitesRoot ?? Self.environment("CHOM_AGENT_SITES_ROOT") ?? Self.defaultSitesRoot
        var configuration = AgentConfiguration(
            stateDirectory: URL(fileURLWithPath: state, isDirectory: true),
            sitesRoot: URL(fileURLWithPath: sites, isDirectory: true))
        if let port = try metricsPort ?? Self.environment("CHOM_AGENT_METRICS_PORT").map(Self.port) {
            configuration.metricsPort = port
        }
        return configuration
    }

    /// Logs to stderr at the chosen level; returns the agent's logger.
    func bootstrapLogging() -> AgentLogger {
        AgentProcess.bootstrapLogging(level: logLevel ?? Self.environment("CHOM_AGENT_LOG_LEVEL"))
    }

    static func environment(_ name: String) -> String? {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else { return nil }
        return value
    }

    private static func port(_ text: String) throws -> Int {
        guard let port = Int(text), (0...65535).contains(port) else {
            throw ValidationError("CHOM_AGENT_METRICS_PORT must be a port number, not '\(text)'")
        }
        return port
    }
}

/// `--coordinator`, `--token` and `--ca-sha256`: what enrollment needs.
struct EnrollmentOptions: ParsableArguments {
    @Option(
        name: .customLong("coordinator"),
        help: ArgumentHelp("The coordinator's enrollment endpoint (IPv6 as [ADDR]:PORT).", valueName: "host:port"))
    var coordinator: String?

    @Option(
        name: .customLong("token"),
        help: ArgumentHelp(
            "The one-time join token. Prefer the environment variable CHOM_JOIN_TOKEN, which keeps it out of 'ps'.",
            valueName: "token"))
    var token: String?

    @Option(
        name: .customLong("ca-sha256"),
        help: ArgumentHelp(
            "SHA-256 fingerprint of the coordinator's CA certificate (64 hex digits, ':' allowed); the first contact is pinned to it.",
            valueName: "hex"))
    var caSHA256: String?

    @Option(name: .customLong("name"), help: ArgumentHelp("A name for this agent (default: the hostname).", valueName: "name"))
    var name: String?

    var isEmpty: Bool { coordinator == nil && token == nil && caSHA256 == nil }

    /// Enrolls; throws one clear error when something is missing or refused.
    func enroll(configuration: AgentConfiguration, logger: AgentLogger) async throws {
        guard let coordinator else { throw ValidationError("missing --coordinator HOST:PORT") }
        guard let address = CoordinatorAddress(parsing: coordinator) else {
            throw ValidationError("--coordinator must be HOST:PORT (IPv6 as [ADDR]:PORT), not '\(coordinator)'")
        }
        guard let caSHA256 else { throw ValidationError("missing --ca-sha256 HEX") }
        guard let token = token ?? AgentOptions.environment("CHOM_JOIN_TOKEN") else {
            throw ValidationError("missing join token: set CHOM_JOIN_TOKEN or pass --token")
        }
        try await AgentRuntime.enroll(
            configuration: configuration, host: address.host, port: address.port, token: token, caSHA256: caSHA256,
            name: name, logger: logger)
    }
}
