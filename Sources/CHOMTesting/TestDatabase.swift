package import Foundation
import Logging
package import PostgresNIO

/// Direct SQL against a test coordinator's embedded PostgreSQL, for setting up situations
/// the API cannot produce (e.g. a result that never arrived).
package enum TestDatabase {
    package static func count(_ sql: String, dataDirectory: URL) async throws -> Int {
        try await withClient(dataDirectory: dataDirectory) { client in
            for try await value in try await client.query(PostgresQuery(unsafeSQL: sql)).decode(Int.self) { return value }
            return 0
        }
    }

    package static func execute(_ sql: String, dataDirectory: URL) async throws {
        try await withClient(dataDirectory: dataDirectory) { client in
            _ = try await client.query(PostgresQuery(unsafeSQL: sql))
        }
    }

    /// A client on the coordinator's database, for tests that play the part of someone with
    /// direct database access.
    package static func withClient<Result: Sendable>(
        dataDirectory: URL, _ body: (PostgresClient) async throws -> Result
    ) async throws -> Result {
        let configuration = PostgresClient.Configuration(
            unixSocketPath: dataDirectory.appendingPathComponent("postgres/.s.PGSQL.5432").path, username: "chom",
            password: nil, database: "postgres")
        let client = PostgresClient(configuration: configuration, backgroundLogger: TestLogging.logger("chom.test.sql"))
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            return try await body(client)
        }
    }
}
