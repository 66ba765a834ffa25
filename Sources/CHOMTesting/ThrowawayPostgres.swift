package import CHOMStore
import Foundation
package import Logging
import PostgresNIO

/// A fresh PostgreSQL cluster in a temporary directory for one test (about 0.7 s),
/// migrated (through `migrations`), with a running client. Stopped and deleted afterwards.
package enum ThrowawayPostgres {
    package static func withStore<Result: Sendable>(
        logger: Logger = TestLogging.logger("chom.test.postgres"), migrations: [Migration] = Migrations.all,
        _ body: (Store) async throws -> Result
    ) async throws -> Result {
        let directory = try TemporaryDirectory.make(prefix: "chom-pg")
        var options = EmbeddedPostgres.Options()
        options.disableFsync = true
        let postgres = EmbeddedPostgres(directory: directory, options: options, logger: logger)
        try await postgres.startOffPool()
        defer {
            postgres.stop(immediate: true)
            TemporaryDirectory.remove(directory)
        }
        var configuration = PostgresClient.Configuration(
            unixSocketPath: postgres.socketPath, username: postgres.username, password: nil,
            database: postgres.database)
        configuration.options.connectTimeout = .seconds(5)
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            let store = Store(client: client, logger: logger)
            try await Migrator.migrate(client, migrations: migrations, logger: logger)
            return try await body(store)
        }
    }
}
