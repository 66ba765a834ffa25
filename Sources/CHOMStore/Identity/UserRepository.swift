package import CHOMCore
package import Foundation
import Logging
import PostgresNIO

package struct UserRepository: Sendable {
    let client: PostgresClient
    let logger: Logger

    package func create(
        id: UserID, email: String, displayName: String, passwordHash: String, isOperator: Bool, now: Date,
        in transaction: AuditedTransaction
    ) async throws -> UserRecord {
        let exists = try await transaction.connection.query(
            "SELECT 1 FROM users WHERE email = \(email)", logger: logger)
        for try await _ in exists { throw CHOMError(.conflict, "a user with that email already exists") }
        try await transaction.connection.query("""
            INSERT INTO users (id, email, display_name, password_hash, is_operator, created_at, updated_at)
            VALUES (\(id.uuid), \(email), \(displayName), \(passwordHash), \(isOperator), \(now), \(now))
            """, logger: logger)
        return UserRecord(
            id: id, email: email, displayName: displayName, passwordHash: passwordHash, isOperator: isOperator,
            createdAt: now, updatedAt: now)
    }

    package func get(_ id: UserID) async throws -> UserRecord? {
        try await first(client.query("SELECT * FROM users WHERE id = \(id.uuid)", logger: logger))
    }

    package func get(email: String) async throws -> UserRecord? {
        try await first(client.query("SELECT * FROM users WHERE email = \(email.lowercased())", logger: logger))
    }

    package func count() async throws -> Int {
        for try await count in try await client.query("SELECT count(*)::integer FROM users", logger: logger)
            .decode(Int.self)
        {
            return count
        }
        return 0
    }

    package func setPasswordHash(_ id: UserID, hash: String, now: Date, in transaction: AuditedTransaction) async throws {
        try await transaction.connection.query(
            "UPDATE users SET password_hash = \(hash), updated_at = \(now) WHERE id = \(id.uuid)", logger: logger)
    }

    private func first(_ rows: PostgresRowSequence) async throws -> UserRecord? {
        for try await row in rows { return try Self.decode(row.makeRandomAccess()) }
        return nil
    }

    static func decode(_ row: PostgresRandomAccessRow) throws -> UserRecord {
        UserRecord(
            id: UserID(try row.value("id", as: UUID.self)), email: try row.value("email"),
            displayName: try row.value("display_name"), passwordHash: try row.value("password_hash"),
            isOperator: try row.value("is_operator"), createdAt: try row.value("created_at"),
            updatedAt: try row.value("updated_at"))
    }
}
