import ArgumentParser
import CHOMCoordinator
import CHOMCore
import Foundation
import Logging
import ServiceLifecycle
import UnixSignals

@main
struct CoordinatorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chom-coordinator",
        abstract: "CHOM coordinator: tenancy, placement, the admin API and the agents' gRPC gateway.",
        discussion: """
            Configuration comes from a JSON file (--config or CHOM_CONFIG; see coordinator-config/README.md),
            then CHOM_* environment variables, then these flags. With no database URL the coordinator runs
            an embedded PostgreSQL under <data-dir>/postgres.
            """,
        subcommands: [Serve.self, BootstrapOperatorCommand.self, RotateSecretsKeyCommand.self, StripeConfigureCommand.self],
        defaultSubcommand: Serve.self)
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the coordinator until SIGTERM or SIGINT.")

    @Option(help: "Path of the JSON configuration file.") var config: String?
    @Option(help: "Directory for keys and the embedded PostgreSQL.") var dataDir: String?
    @Option(help: "postgres://user[:password]@host[:port]/database (default: embedded PostgreSQL).")
    var databaseURL: String?
    @Option(help: "Admin API listen address.") var apiHost: String?
    @Option(help: "Admin API port (0 = any free port).") var apiPort: Int?
    @Option(help: "gRPC listen address for agents.") var grpcHost: String?
    @Option(help: "Mutual-TLS agent listener port.") var grpcPort: Int?
    @Option(help: "TLS enrollment listener port.") var grpcEnrollPort: Int?
    @Option(help: "trace, debug, info, notice, warning, error or critical.") var logLevel: String?

    func run() async throws {
        var configuration = try loadConfiguration(file: config, dataDir: dataDir, databaseURL: databaseURL)
        if let apiHost { configuration.api.host = apiHost }
        if let apiPort { configuration.api.port = apiPort }
        if let grpcHost { configuration.grpc.host = grpcHost }
        if let grpcPort { configuration.grpc.port = grpcPort }
        if let grpcEnrollPort { configuration.grpc.enrollPort = grpcEnrollPort }
        if let logLevel { configuration.logLevel = logLevel }
        let logger = bootstrapLogging(configuration.logLevel)
        let coordinator = Coordinator(configuration: configuration, logger: logger)
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: coordinator)],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        do {
            try await group.run()
        } catch {
            FileHandle.standardError.write(Data("chom-coordinator: \(error)\n".utf8))
            throw ExitCode.failure
        }
    }
}

/// Defaults, the JSON file, CHOM_* variables, then the common flags.
func loadConfiguration(file: String?, dataDir: String?, databaseURL: String?) throws -> CoordinatorConfiguration {
    var configuration: CoordinatorConfiguration
    do {
        configuration = try ConfigurationLoader.load(file: file)
    } catch {
        throw ValidationError("\(error)")
    }
    if let dataDir { configuration.dataDirectory = dataDir }
    if let databaseURL { configuration.databaseURL = databaseURL }
    return configuration
}

func bootstrapLogging(_ levelName: String) -> Logger {
    let level = Logger.Level(rawValue: levelName) ?? .info
    LoggingSystem.bootstrap { label in DeferredMetadataLogHandler(label: label, level: level) }
    return Logger(label: "chom.coordinator")
}
