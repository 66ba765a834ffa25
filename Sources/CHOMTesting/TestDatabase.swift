package import Foundation
import Logging
import PostgresNIO

/// Direct SQL against a test coordinator's embedded PostgreSQL, for setting up situations
/// the API cannot produce (e.g. a result that never arrived).
package enum TestDatabase {
    package static func execute(_ sql: String, dataDirectory: URL) async throws {
        let configuration = PostgresClient.Configuration(
            unixSocketPath: dataDirectory.appendingPathComponent("postgres/.s.PGSQL.5432").path, username: "chom",
            password: nil, database: "postgres")
        let client = PostgresClient(configuration: configuration, backgroundLogger: TestLogging.logger("chom.test.sql"))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            try await client.query(PostgresQuery(unsafeSQL: sql))
        }
    }
}
