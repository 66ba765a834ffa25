package import CHOMAudit
package import CHOMCore
package import Foundation
import PostgresNIO

/// One agent as the failure detector sees it.
package struct AgentHealthRow: Sendable, Equatable {
    package var id: AgentID
    package var name: String
    /// online, suspect or offline (`agents.health`).
    package var health: String
    /// Its last heartbeat, or its enrollment when it never sent one.
    package var lastHeardAt: Date
    /// When the health last changed (nil: never since it enrolled).
    package var healthChangedAt: Date?
}

extension Store {
    /// Every agent that is not deleted, with its health and when it was last heard from.
    /// `health`: only the agents in that health (the failover pass asks for the failed ones every
    /// tick; the whole fleet is read by the detector alone).
    package func agentHealth(_ health: String? = nil) async throws -> [AgentHealthRow] {
        let rows = try await client.query("""
            SELECT id, name, health, COALESCE(last_heartbeat_at, enrolled_at) AS heard, health_changed_at
            FROM agents WHERE state <> 'deleted' AND (\(health)::text IS NULL OR health = \(health)::text) ORDER BY id
            """, logger: logger)
        var result: [AgentHealthRow] = []
        for try await (id, name, health, heard, changed) in rows.decode((UUID, String, String, Date, Date?).self) {
            result.append(AgentHealthRow(
                id: AgentID(id), name: name, health: health, lastHeardAt: heard, healthChangedAt: changed))
        }
        return result
    }

    /// Records the detector's new verdict for an agent, as the leader of `epoch`, if its health is
    /// still `from` (another leader may have moved it); audited when it becomes or stops being
    /// offline. Returns whether it changed.
    @discardableResult
    package func recordAgentHealth(
        _ id: AgentID, from: String, to: String, silenceSeconds: Double, now: Date, epoch: Int64
    ) async throws -> Bool {
        let update: (PostgresConnection) async throws -> Bool = { [logger] connection in
            let rows = try await connection.query("""
                UPDATE agents SET health = \(to), health_changed_at = \(now)
                WHERE id = \(id.uuid) AND health = \(from) RETURNING id
                """, logger: logger)
            var changed = false
            for try await _ in rows { changed = true }
            return changed
        }
        // Suspect and back is routine and only counted; failing and recovering are audited.
        guard from == "offline" || to == "offline" else {
            return try await leaderTransaction(epoch: epoch) { try await update($0) }
        }
        do {
            return try await leaderWrite(epoch: epoch, now: now) { transaction in
                // An audited write must record its entry: unchanged, it is rolled back instead.
                guard try await update(transaction.connection) else { throw Unchanged() }
                try await transaction.record(AuditEntry(
                    time: now, actor: "system", action: to == "offline" ? "agent.failed" : "agent.recovered",
                    target: "agent:\(id)",
                    details: ["from": from, "to": to, "silence_seconds": String(format: "%.1f", silenceSeconds)]))
                return true
            }
        } catch is Unchanged {
            return false
        }
    }
}

private struct Unchanged: Error {}
