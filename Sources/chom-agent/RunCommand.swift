import ArgumentParser
import CHOMAgent
import CHOMTransport
import Foundation

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

    @Option(
        name: .customLong("public-address"),
        help: ArgumentHelp(
            """
            An address (IPv4 or IPv6) this host's sites are reached at, for DNS and for the proxy of a site \
            migrated away; repeat for several (env CHOM_AGENT_PUBLIC_ADDRESSES, comma-separated; default: the \
            address the coordinator sees the agent's stream come from).
            """, valueName: "address"))
    var publicAddresses: [String] = []

    @Option(
        name: .customLong("inventory-interval"),
        help: ArgumentHelp(
            """
            Seconds between two inventory reports (the sites held, their releases and configuration versions) \
            after the one sent on every connect; the coordinator reconciles each (default 60).
            """, valueName: "seconds"))
    var inventoryInterval: Int?

    @Option(
        name: .customLong("heartbeat-interval"),
        help: ArgumentHelp(
            """
            Seconds between two heartbeats (default 10). The coordinators' failure detector calls an agent \
            suspect after agents.heartbeatTTLSeconds without one: keep that at least three intervals.
            """, valueName: "seconds"))
    var heartbeatInterval: Int?

    @Option(
        name: .customLong("max-sites"),
        help: ArgumentHelp(
            """
            How many sites this host offers the scheduler (default 50); the coordinator places no more here,             beside the CPU, memory and disk it reports.
            """, valueName: "count"))
    var maxSites: Int?

    @Option(
        name: .customLong("connect"),
        help: ArgumentHelp(
            """
            The agent listener (HOST:PORT) of a coordinator replica; repeat for each replica (env \
            CHOM_AGENT_CONNECT, comma-separated). The agent dials them in turn, moving to the next one when a \
            stream ends or a dial fails. Default: the address recorded at enrollment. Each replica's server \
            certificate must name the host as given (grpc.advertisedHostnames / advertisedAddresses).
            """, valueName: "host:port"))
    var connect: [String] = []

    @OptionGroup(title: "Hosting") var hosting: HostingOptions

    @OptionGroup(title: "Enroll first (only when not enrolled yet)") var enrollment: EnrollmentOptions

    func run() async throws {
        let logger = agent.bootstrapLogging()
        do {
            var configuration = try agent.configuration()
            if let host = metricsHost ?? AgentOptions.environment("CHOM_AGENT_METRICS_HOST") {
                configuration.metricsHost = host
            }
            let addresses = publicAddresses.isEmpty
                ? (AgentOptions.environment("CHOM_AGENT_PUBLIC_ADDRESSES") ?? "").split(separator: ",").map {
                    $0.trimmingCharacters(in: .whitespaces)
                } : publicAddresses
            for address in addresses where IPAddressLiteral.bytes(address) == nil || address.hasPrefix("[") {
                throw ValidationError("--public-address \(address) is not an IPv4 or IPv6 address")
            }
            configuration.publicAddresses = addresses
            if let inventoryInterval {
                guard (1...86_400).contains(inventoryInterval) else {
                    throw ValidationError("--inventory-interval must be 1 to 86400 seconds, got \(inventoryInterval)")
                }
                configuration.inventoryInterval = .seconds(inventoryInterval)
            }
            if let heartbeatInterval {
                guard (1...3_600).contains(heartbeatInterval) else {
                    throw ValidationError("--heartbeat-interval must be 1 to 3600 seconds, got \(heartbeatInterval)")
                }
                configuration.heartbeatInterval = .seconds(heartbeatInterval)
            }
            if let maxSites {
                guard (1...100_000).contains(maxSites) else {
                    throw ValidationError("--max-sites must be 1 to 100000, got \(maxSites)")
                }
                configuration.maxSites = maxSites
            }
            let replicas = connect.isEmpty
                ? (AgentOptions.environment("CHOM_AGENT_CONNECT") ?? "").split(separator: ",").map {
                    $0.trimmingCharacters(in: .whitespaces)
                }.filter { !$0.isEmpty } : connect
            configuration.connectAddresses = try replicas.map { text in
                guard let address = CoordinatorAddress(parsing: text) else {
                    throw ValidationError("--connect \(text) is not HOST:PORT")
                }
                return address
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

