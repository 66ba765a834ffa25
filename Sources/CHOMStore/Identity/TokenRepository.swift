package import CHOMCore
package import Foundation
import Logging
import PostgresNIO

/// API tokens: only the SHA-256 of each secret is stored.
package struct TokenRepository: Sendable {
    let client: PostgresClient
    let logger: Logger

    package func insert(_ token: StoredToken, in transaction: AuditedTransaction) async throws {
        let t = token
        try await transaction.connection.query("""
            INSERT INTO api_tokens (id, user_id, kind, name, secret_sha256, abilities, created_at, expires_at)
            VALUES (\(t.id.uuid), \(t.userID.uuid), \(t.kind), \(t.name), \(ByteBuffer(bytes: t.secretSHA256)),
                \(t.abilities), \(t.createdAt), \(t.expiresAt))
            """, logger: logger)
    }

    package func get(_ id: APITokenID) async throws -> StoredToken? {
        let rows = try await client.query("SELECT * FROM api_tokens WHERE id = \(id.uuid)", logger: logger)
        for try await row in rows { return try Self.decode(row.makeRandomAccess()) }
        return nil
    }

    /// The user's tokens that are neither revoked nor long expired, ordered by id.
    package func list(user: UserID, now: Date, after cursor: UUID?, limit: Int) async throws -> [StoredToken] {
        let rows = try await client.query("""
            SELECT * FROM api_tokens WHERE user_id = \(user.uuid) AND revoked_at IS NULL AND expires_at > \(now)
              AND (\(cursor)::uuid IS NULL OR id > \(cursor)::uuid)
            ORDER BY id LIMIT \(limit)
            """, logger: logger)
        var result: [StoredToken] = []
        for try await row in rows { result.append(try Self.decode(row.makeRandomAccess())) }
        return result
    }

    /// Revokes one of the user's tokens; false if there is no such live token of theirs.
    package func revoke(_ id: APITokenID, user: UserID, now: Date, in transaction: AuditedTransaction) async throws
        -> Bool
    {
        let rows = try await transaction.connection.query("""
            UPDATE api_tokens SET revoked_at = \(now)
            WHERE id = \(id.uuid) AND user_id = \(user.uuid) AND revoked_at IS NULL RETURNING id
            """, logger: logger)
        for try await _ in rows { return true }
        return false
    }

    /// Revokes every live token of the user but `except` (nil: all of them).
    package func revokeAll(user: UserID, except: APITokenID? = nil, now: Date, in transaction: AuditedTransaction)
        async throws -> Int
    {
        let rows = try await transaction.connection.query("""
            UPDATE api_tokens SET revoked_at = \(now)
            WHERE user_id = \(user.uuid) AND revoked_at IS NULL AND (\(except?.uuid)::uuid IS NULL OR id <> \(except?.uuid)::uuid)
            RETURNING id
            """, logger: logger)
        var count = 0
        for try await _ in rows { count += 1 }
        return count
    }

    /// Marks the token rotated (it stays valid for the grace); false if it was already
    /// rotated or revoked, so one token rotates once.
    package func markRotated(_ id: APITokenID, now: Date, in transaction: AuditedTransaction) async throws -> Bool {
        let rows = try await transaction.connection.query("""
            UPDATE api_tokens SET rotated_at = \(now)
            WHERE id = \(id.uuid) AND rotated_at IS NULL AND revoked_at IS NULL RETURNING id
            """, logger: logger)
        for try await _ in rows { return true }
        return false
    }

    /// Records use, at most once a minute per token to keep reads cheap.
    package func touch(_ id: APITokenID, now: Date) async throws {
        let cutoff = now.addingTimeInterval(-60)
        try await client.query("""
            UPDATE api_tokens SET last_used_at = \(now)
            WHERE id = \(id.uuid) AND (last_used_at IS NULL OR last_used_at < \(cutoff))
            """, logger: logger)
    }

    static func decode(_ r: PostgresRandomAccessRow) throws -> StoredToken {
        let secret: ByteBuffer = try r.value("secret_sha256")
        return StoredToken(
            id: APITokenID(try r.value("id", as: UUID.self)), userID: UserID(try r.value("user_id", as: UUID.self)),
            kind: try r.value("kind"), name: try r.value("name"), secretSHA256: Array(buffer: secret),
            abilities: try r.value("abilities"), createdAt: try r.value("created_at"),
            expiresAt: try r.value("expires_at"), revokedAt: try r.value("revoked_at"),
            rotatedAt: try r.value("rotated_at"), lastUsedAt: try r.value("last_used_at"))
    }
}
