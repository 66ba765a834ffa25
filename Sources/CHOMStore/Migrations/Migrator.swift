import CHOMCore
import Foundation
package import Logging
package import PostgresNIO

/// Applies pending migrations under a PostgreSQL advisory lock, so replicas that
/// start together apply each migration once.
package enum Migrator {
    /// Arbitrary but fixed: "CHOM" in ASCII.
    static let advisoryLockKey: Int64 = 0x4348_4F4D

    /// Returns the versions applied by this call.
    @discardableResult
    package static func migrate(
        _ client: PostgresClient, migrations: [Migration] = Migrations.all, logger: Logger
    ) async throws -> [Int] {
        try await client.withConnection { connection in
            try await connection.query("SELECT pg_advisory_lock(\(advisoryLockKey))", logger: logger)
            do {
                let applied = try await apply(migrations, on: connection, logger: logger)
                try await connection.query("SELECT pg_advisory_unlock(\(advisoryLockKey))", logger: logger)
                return applied
            } catch {
                _ = try? await connection.query("SELECT pg_advisory_unlock(\(advisoryLockKey))", logger: logger)
                throw error
            }
        }
    }

    private static func apply(
        _ migrations: [Migration], on connection: PostgresConnection, logger: Logger
    ) async throws -> [Int] {
        try await connection.query("""
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version integer PRIMARY KEY,
                name text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """, logger: logger)
        var done = Set<Int>()
        for try await version in try await connection.query("SELECT version FROM schema_migrations", logger: logger)
            .decode(Int.self)
        {
            done.insert(version)
        }
        var applied: [Int] = []
        for migration in migrations.sorted(by: { $0.version < $1.version }) where !done.contains(migration.version) {
            do {
                try await connection.withTransaction(logger: logger) { transaction in
                    try await migration.check?(transaction, logger)
                    for statement in SQLStatementSplitter.split(migration.sql) {
                        try await transaction.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                    }
                    try await transaction.query(
                        "INSERT INTO schema_migrations (version, name) VALUES (\(migration.version), \(migration.name))",
                        logger: logger)
                }
            } catch let error as PostgresTransactionError {
                // A refused check reaches the caller as itself, with its report.
                if let closureError = error.closureError, error.rollbackError == nil { throw closureError }
                throw error
            }
            logger.info("applied migration", metadata: ["chom.migration": "\(migration.version) \(migration.name)"])
            applied.append(migration.version)
        }
        return applied
    }
}
