package import CHOMCore
package import Foundation
package import Logging
package import PostgresNIO

/// The numbered reports agents send on their stream (inventories now, usage later), each named by
/// (agent, stream, sequence) in `agent_reports`. A report is applied once however often it arrives:
/// a reconnect that repeats it, a replayed message, two replicas holding the agent's streams one
/// after the other. The agent raises its sequence with every report and keeps it across restarts.
package struct AgentReportRepository: Sendable {
    let client: PostgresClient
    let logger: Logger

    package init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// What to do with a report.
    package enum Admission: String, Sendable, Equatable {
        /// Never seen, and newer than every report of its stream seen so far: apply it.
        case fresh
        /// This (agent, stream, sequence) was recorded before: it was applied (or is being applied).
        case duplicate
        /// Never seen, but a newer report of the same stream was: for a stream whose reports each
        /// describe the whole state (an inventory), the older one says nothing new.
        case stale
    }

    /// The verdict for a report (pure): `inserted` says whether recording it added a row, `newest`
    /// is the highest sequence of its stream recorded before it.
    package static func admission(sequence: Int64, inserted: Bool, newest: Int64?) -> Admission {
        guard inserted else { return .duplicate }
        if let newest, newest > sequence { return .stale }
        return .fresh
    }

    /// Records the report and says whether to apply it. With `keepNewestOnly` (streams whose
    /// reports each describe the whole state) the rows below a fresh report are deleted, so such a
    /// stream keeps one row per agent. Sequences above `Int64.max` are clamped.
    package func admit(
        agent: AgentID, stream: String, sequence: UInt64, keepNewestOnly: Bool, now: Date
    ) async throws -> Admission {
        let number = Int64(clamping: sequence)
        return try await client.transaction(logger: logger) { connection in
            // One admission per (agent, stream) at a time. Without it, a report racing a newer
            // one could be admitted as fresh: its INSERT waits for the newer report's transaction
            // (which deletes the older rows) and then succeeds, while its `max(sequence)` reads the
            // snapshot taken before that transaction committed. The next statement, run after the
            // lock is held, sees every admission committed before it.
            try await connection.query("""
                SELECT pg_advisory_xact_lock(hashtextextended(\("chom-reports:\(agent)/\(stream)"), 0))
                """, logger: logger)
            let rows = try await connection.query("""
                WITH inserted AS (
                    INSERT INTO agent_reports (agent_id, stream, sequence, received_at)
                    VALUES (\(agent.uuid), \(stream), \(number), \(now))
                    ON CONFLICT DO NOTHING RETURNING sequence
                )
                SELECT (SELECT count(*) FROM inserted)::integer,
                    (SELECT max(sequence) FROM agent_reports WHERE agent_id = \(agent.uuid) AND stream = \(stream))
                """, logger: logger)
            var admission = Admission.duplicate
            for try await (inserted, newest) in rows.decode((Int, Int64?).self) {
                admission = Self.admission(sequence: number, inserted: inserted > 0, newest: newest)
            }
            if admission == .fresh, keepNewestOnly {
                try await connection.query("""
                    DELETE FROM agent_reports
                    WHERE agent_id = \(agent.uuid) AND stream = \(stream) AND sequence < \(number)
                    """, logger: logger)
            }
            return admission
        }
    }

    /// Whether a report newer than `sequence` was admitted on the stream since: checked again under
    /// the applier's own lock, so an admitted report that lost the race to a newer one is not
    /// applied after it.
    package func superseded(
        agent: AgentID, stream: String, sequence: UInt64, on connection: PostgresConnection
    ) async throws -> Bool {
        let rows = try await connection.query("""
            SELECT EXISTS (SELECT 1 FROM agent_reports
                WHERE agent_id = \(agent.uuid) AND stream = \(stream) AND sequence > \(Int64(clamping: sequence)))
            """, logger: logger)
        for try await newer in rows.decode(Bool.self) { return newer }
        return false
    }
}
