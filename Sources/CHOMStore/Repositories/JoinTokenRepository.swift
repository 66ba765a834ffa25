package import CHOMAudit
package import CHOMCore
package import Foundation
import Logging
import PostgresNIO

package struct JoinTokenRepository: Sendable {
    let client: PostgresClient
    let logger: Logger
    /// For chaining its audit entries after its transactions (checkpoints by count are signed then).
    var auditSettings = AuditSettings()

    package func create(
        id: JoinTokenID, secretSHA256: [UInt8], description: String, maxUses: Int, expiresAt: Date, now: Date,
        in transaction: AuditedTransaction
    ) async throws -> JoinTokenRecord {
        try await transaction.connection.query("""
            INSERT INTO join_tokens (id, secret_sha256, description, max_uses, expires_at, created_at)
            VALUES (\(id.uuid), \(ByteBuffer(bytes: secretSHA256)), \(description), \(maxUses), \(expiresAt), \(now))
            """, logger: logger)
        return JoinTokenRecord(
            id: id, description: description, maxUses: maxUses, uses: 0, expiresAt: expiresAt, createdAt: now,
            revokedAt: nil)
    }

    package func list() async throws -> [JoinTokenRecord] {
        var records: [JoinTokenRecord] = []
        let rows = try await client.query(
            "SELECT id, description, max_uses, uses, expires_at, created_at, revoked_at FROM join_tokens ORDER BY created_at",
            logger: logger)
        for try await row in rows { records.append(try Self.decode(row.makeRandomAccess())) }
        return records
    }

    /// A page ordered by id.
    package func list(after cursor: UUID?, limit: Int) async throws -> [JoinTokenRecord] {
        var records: [JoinTokenRecord] = []
        let rows = try await client.query("""
            SELECT id, description, max_uses, uses, expires_at, created_at, revoked_at FROM join_tokens
            WHERE (\(cursor)::uuid IS NULL OR id > \(cursor)::uuid) ORDER BY id LIMIT \(limit)
            """, logger: logger)
        for try await row in rows { records.append(try Self.decode(row.makeRandomAccess())) }
        return records
    }

    package func get(_ id: JoinTokenID) async throws -> JoinTokenRecord? {
        let rows = try await client.query(
            "SELECT id, description, max_uses, uses, expires_at, created_at, revoked_at FROM join_tokens WHERE id = \(id.uuid)",
            logger: logger)
        for try await row in rows { return try Self.decode(row.makeRandomAccess()) }
        return nil
    }

    /// Returns false when no such token exists.
    package func revoke(_ id: JoinTokenID, now: Date, in transaction: AuditedTransaction) async throws -> Bool {
        let rows = try await transaction.connection.query(
            "UPDATE join_tokens SET revoked_at = COALESCE(revoked_at, \(now)) WHERE id = \(id.uuid) RETURNING id",
            logger: logger)
        for try await _ in rows { return true }
        return false
    }

    package func uses(of id: JoinTokenID, after cursor: Int64? = nil, limit: Int = 1000) async throws -> [JoinTokenUse] {
        var uses: [JoinTokenUse] = []
        let rows = try await client.query("""
            SELECT id, used_at, source_address, outcome, agent_id FROM join_token_uses
            WHERE join_token_id = \(id.uuid) AND (\(cursor)::bigint IS NULL OR id > \(cursor)::bigint) ORDER BY id LIMIT \(limit)
            """, logger: logger)
        for try await row in rows {
            let row = row.makeRandomAccess()
            let agent: UUID? = try row.value("agent_id")
            uses.append(JoinTokenUse(
                id: try row.value("id"), usedAt: try row.value("used_at"), sourceAddress: try row.value("source_address"),
                outcome: try row.value("outcome"), agentID: agent.map { AgentID($0) }))
        }
        return uses
    }

    /// Checks the token under a row lock and, when it is valid, counts the use and inserts
    /// the agent in the same transaction. Every attempt on a known token is recorded, and
    /// audited (`audit` builds the entry for the verdict) in the transaction that records it.
    package func consume(
        _ id: JoinTokenID, presentedSHA256: [UInt8], now: Date, sourceAddress: String, agent: NewAgent,
        audit: @Sendable (JoinTokenPolicy.Verdict) -> AuditEntry
    ) async throws -> JoinTokenPolicy.Verdict {
        try await consume(
            id, presentedSHA256: presentedSHA256, now: now, sourceAddress: sourceAddress, agent: { agent }, audit: audit)
    }

    /// As above, but the agent is made by `agent` only once the token is found valid, under its row
    /// lock (the gateway signs the agent's CSR there: nothing is signed for a refused token). An error
    /// from `agent` rolls the use back and reaches the caller as itself.
    package func consume(
        _ id: JoinTokenID, presentedSHA256: [UInt8], now: Date, sourceAddress: String,
        agent: @Sendable () throws -> NewAgent, audit: @Sendable (JoinTokenPolicy.Verdict) -> AuditEntry
    ) async throws -> JoinTokenPolicy.Verdict {
        let verdict = try await client.transaction(logger: logger) { connection -> JoinTokenPolicy.Verdict in
            let rows = try await connection.query("""
                SELECT secret_sha256, max_uses, uses, expires_at, revoked_at FROM join_tokens
                WHERE id = \(id.uuid) FOR UPDATE
                """, logger: logger)
            var state: JoinTokenPolicy.State?
            for try await row in rows {
                let row = row.makeRandomAccess()
                let hash: ByteBuffer = try row.value("secret_sha256")
                state = JoinTokenPolicy.State(
                    secretSHA256: Array(buffer: hash), maxUses: try row.value("max_uses"), uses: try row.value("uses"),
                    expiresAt: try row.value("expires_at"), revokedAt: try row.value("revoked_at"))
            }
            let verdict = JoinTokenPolicy.check(state, presentedSHA256: presentedSHA256, now: now)
            guard verdict == .valid else { return verdict }
            let agent = try agent()
            try await connection.query("UPDATE join_tokens SET uses = uses + 1 WHERE id = \(id.uuid)", logger: logger)
            try await AgentRepository.insert(agent, joinToken: id, now: now, on: connection, logger: logger)
            try await connection.query("""
                INSERT INTO join_token_uses (join_token_id, used_at, source_address, outcome, agent_id)
                VALUES (\(id.uuid), \(now), \(sourceAddress), 'enrolled', \(agent.id.uuid))
                """, logger: logger)
            try await AuditLog.stage(audit(verdict), on: connection, logger: logger)
            return verdict
        }
        if verdict != .valid {
            try await client.transaction(logger: logger) { connection in
                if verdict != .unknown {
                    try await connection.query("""
                        INSERT INTO join_token_uses (join_token_id, used_at, source_address, outcome)
                        VALUES (\(id.uuid), \(now), \(sourceAddress), \(verdict.rawValue))
                        """, logger: logger)
                }
                try await AuditLog.stage(audit(verdict), on: connection, logger: logger)
            }
        }
        await Store(client: client, logger: logger, audit: auditSettings).chainAudit(now: now)
        return verdict
    }

    static func decode(_ row: PostgresRandomAccessRow) throws -> JoinTokenRecord {
        let id: UUID = try row.value("id")
        return JoinTokenRecord(
            id: JoinTokenID(id), description: try row.value("description"), maxUses: try row.value("max_uses"),
            uses: try row.value("uses"), expiresAt: try row.value("expires_at"), createdAt: try row.value("created_at"),
            revokedAt: try row.value("revoked_at"))
    }
}
