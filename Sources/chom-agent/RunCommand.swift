import ArgumentParser
import CHOMAgent

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the agent: hold the coordinator stream, execute tasks, serve /metrics.",
        discussion: """
            Connects to the coordinator recorded at enrollment over mutual TLS and reconnects \
            forever with backoff. SIGTERM or SIGINT stop it gracefully: a running task finishes \
            first. When the agent is not enrolled yet and --coordinator, --ca-sha256 and a token \
            (--token or CHOM_JOIN_TOKEN) are given, it enrolls first.
            """
    )

    @OptionGroup var agent: AgentOptions

    @Option(
        name: .customLong("metrics-host"),
        help: ArgumentHelp(
            "Address the /metrics endpoint binds to (env CHOM_AGENT_METRICS_HOST; default 127.0.0.1).", valueName: "host"))
    var metricsHost: String?

    @OptionGroup(title: "Hosting") var hosting: HostingOptions

    @OptionGroup(title: "Enroll first (only when not enrolled yet)") var enrollment: EnrollmentOptions

    func run() async throws {
        let logger = agent.bootstrapLogging()
        do {
            var configuration = try agent.configuration()
            if let host = metricsHost ?? AgentOptions.environment("CHOM_AGENT_METRICS_HOST") {
                configuration.metricsHost = host
            }
            try hosting.apply(to: &configuration)
            let runtime = AgentRuntime(configuration: configuration, logger: logger)
            if !runtime.isEnrolled, !enrollment.isEmpty {
                try await enrollment.enroll(configuration: configuration, logger: logger)
            }
            try await AgentProcess.run(runtime, logger: logger)
        } catch let error as ValidationError {
            throw error
        } catch {
            FatalLine.print(error)
            throw ExitCode.failure
        }
    }
}

