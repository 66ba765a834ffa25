import CHOMCore
import CHOMProtocol
import CHOMStore
import Foundation
import Logging
import PostgresNIO

/// The coordinator's PostgreSQL: the configured URL, or the embedded cluster under the data
/// directory (started here, stopped by the caller).
enum CoordinatorDatabase {
    static func open(_ configuration: CoordinatorConfiguration, logger: Logger) async throws
        -> (PostgresClient.Configuration, EmbeddedPostgres?)
    {
        if let url = configuration.databaseURL {
            return (sessionSettings(try Store.configuration(databaseURL: url), configuration), nil)
        }
        let directory = URL(fileURLWithPath: configuration.dataDirectory)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let postgres = EmbeddedPostgres(directory: directory.appendingPathComponent("postgres"), logger: logger)
        try await postgres.startOffPool()
        let pool = PostgresClient.Configuration(
            unixSocketPath: postgres.socketPath, username: postgres.username, password: nil, database: postgres.database)
        return (sessionSettings(pool, configuration), postgres)
    }

    /// Settings every session of the coordinator starts with (startup parameters, so no pooled
    /// connection is ever without them): `leader.idleTransactionTimeoutSeconds`.
    static func sessionSettings(
        _ pool: PostgresClient.Configuration, _ configuration: CoordinatorConfiguration
    ) -> PostgresClient.Configuration {
        var pool = pool
        let milliseconds = Int(max(1, configuration.leader.idleTransactionTimeoutSeconds) * 1000)
        pool.options.additionalStartupParameters.append(("idle_in_transaction_session_timeout", "\(milliseconds)"))
        return pool
    }

    /// Runs `body` with a migrated store and the coordinator's keys, for one-shot commands.
    static func withStore<Result: Sendable>(
        _ configuration: CoordinatorConfiguration, logger: Logger,
        _ body: (Store, CoordinatorKeys) async throws -> Result
    ) async throws -> Result {
        let (clientConfiguration, embedded) = try await open(configuration, logger: logger)
        defer { embedded?.stop() }
        let client = PostgresClient(configuration: clientConfiguration, backgroundLogger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            try await Migrator.migrate(client, logger: logger)
            let keys = try CoordinatorKeys.loadOrCreate(
                dataDirectory: URL(fileURLWithPath: configuration.dataDirectory),
                hostnames: configuration.grpc.advertisedHostnames, addresses: configuration.grpc.advertisedAddresses,
                now: Date())
            let store = Store(
                client: client, logger: logger,
                audit: configuration.audit.settings(signingKey: keys.signer.privateKey))
            return try await body(store, keys)
        }
    }
}
