package import CHOMCore
package import Foundation
import Logging
import PostgresNIO

/// TOTP secrets (sealed), used time steps, recovery code hashes, and two-step login challenges.
package struct TwoFactorRepository: Sendable {
    let client: PostgresClient
    let logger: Logger

    package func get(_ user: UserID) async throws -> TwoFactorRecord? {
        let rows = try await client.query("SELECT * FROM two_factor WHERE user_id = \(user.uuid)", logger: logger)
        for try await row in rows { return try Self.decode(row.makeRandomAccess()) }
        return nil
    }

    /// Starts (or restarts) an unconfirmed enrollment; refuses when 2FA is already on.
    package func begin(_ user: UserID, secretSealed: String, now: Date, in transaction: AuditedTransaction) async throws {
        let rows = try await transaction.connection.query("""
            INSERT INTO two_factor (user_id, secret_sealed, created_at) VALUES (\(user.uuid), \(secretSealed), \(now))
            ON CONFLICT (user_id) DO UPDATE SET secret_sealed = EXCLUDED.secret_sealed, created_at = EXCLUDED.created_at,
                last_used_step = NULL, recovery_code_hashes = '{}'
            WHERE two_factor.confirmed_at IS NULL
            RETURNING user_id
            """, logger: logger)
        for try await _ in rows { return }
        throw CHOMError(.conflict, "two-factor authentication is already on")
    }

    package func confirm(
        _ user: UserID, step: Int64, recoveryCodeHashes: [String], now: Date, in transaction: AuditedTransaction
    ) async throws {
        try await transaction.connection.query("""
            UPDATE two_factor SET confirmed_at = \(now), last_used_step = \(step),
                recovery_code_hashes = \(recoveryCodeHashes)
            WHERE user_id = \(user.uuid) AND confirmed_at IS NULL
            """, logger: logger)
    }

    /// Records a used time step; false if that step (or a later one) was already used, so a
    /// code is never accepted twice, even by two replicas at once.
    package func useStep(_ user: UserID, step: Int64) async throws -> Bool {
        let rows = try await client.query("""
            UPDATE two_factor SET last_used_step = \(step)
            WHERE user_id = \(user.uuid) AND (last_used_step IS NULL OR last_used_step < \(step)) RETURNING user_id
            """, logger: logger)
        for try await _ in rows { return true }
        return false
    }

    /// Replaces the recovery code hashes if they are still `expected` (compare-and-swap).
    package func consumeRecoveryCode(_ user: UserID, expected: [String], remaining: [String]) async throws -> Bool {
        let rows = try await client.query("""
            UPDATE two_factor SET recovery_code_hashes = \(remaining)
            WHERE user_id = \(user.uuid) AND recovery_code_hashes = \(expected) RETURNING user_id
            """, logger: logger)
        for try await _ in rows { return true }
        return false
    }

    package func disable(_ user: UserID, in transaction: AuditedTransaction) async throws {
        try await transaction.connection.query("DELETE FROM two_factor WHERE user_id = \(user.uuid)", logger: logger)
    }

    /// Every sealed secret, for key rotation.
    package func allSealed() async throws -> [(UserID, String)] {
        var result: [(UserID, String)] = []
        let rows = try await client.query("SELECT user_id, secret_sealed FROM two_factor", logger: logger)
        for try await (user, sealed) in rows.decode((UUID, String).self) { result.append((UserID(user), sealed)) }
        return result
    }

    package func reseal(_ user: UserID, from old: String, to new: String, in transaction: AuditedTransaction) async throws
        -> Bool
    {
        let rows = try await transaction.connection.query("""
            UPDATE two_factor SET secret_sealed = \(new) WHERE user_id = \(user.uuid) AND secret_sealed = \(old)
            RETURNING user_id
            """, logger: logger)
        for try await _ in rows { return true }
        return false
    }

    // MARK: Login challenges (the second step of a two-factor login)

    package func createChallenge(_ challenge: LoginChallengeRecord) async throws {
        try await client.query("""
            INSERT INTO login_challenges (id, user_id, secret_sha256, expires_at)
            VALUES (\(challenge.id), \(challenge.userID.uuid), \(ByteBuffer(bytes: challenge.secretSHA256)),
                \(challenge.expiresAt))
            """, logger: logger)
    }

    /// Counts an attempt on a live challenge and returns it (with the attempt counted), or nil.
    package func attemptChallenge(_ id: UUID, now: Date) async throws -> LoginChallengeRecord? {
        let rows = try await client.query("""
            UPDATE login_challenges SET attempts = attempts + 1
            WHERE id = \(id) AND consumed_at IS NULL AND expires_at > \(now) RETURNING *
            """, logger: logger)
        for try await row in rows {
            let r = row.makeRandomAccess()
            let secret: ByteBuffer = try r.value("secret_sha256")
            return LoginChallengeRecord(
                id: try r.value("id"), userID: UserID(try r.value("user_id", as: UUID.self)),
                secretSHA256: Array(buffer: secret), expiresAt: try r.value("expires_at"),
                attempts: try r.value("attempts"), consumedAt: try r.value("consumed_at"))
        }
        return nil
    }

    package func consumeChallenge(_ id: UUID, now: Date) async throws -> Bool {
        let rows = try await client.query(
            "UPDATE login_challenges SET consumed_at = \(now) WHERE id = \(id) AND consumed_at IS NULL RETURNING id",
            logger: logger)
        for try await _ in rows { return true }
        return false
    }

    static func decode(_ r: PostgresRandomAccessRow) throws -> TwoFactorRecord {
        TwoFactorRecord(
            userID: UserID(try r.value("user_id", as: UUID.self)), secretSealed: try r.value("secret_sealed"),
            confirmedAt: try r.value("confirmed_at"), lastUsedStep: try r.value("last_used_step"),
            recoveryCodeHashes: try r.value("recovery_code_hashes"))
    }
}
