package import CHOMCore
package import Foundation
import Logging
import PostgresNIO

package struct AgentRepository: Sendable {
    let client: PostgresClient
    let logger: Logger

    static let columns = """
        a.id, a.name, a.state, a.certificate_serial, a.certificate_not_after, a.agent_version, a.host_facts::text AS facts,
        a.max_sites, a.next_sequence, a.metrics_address, a.last_heartbeat_at, a.enrolled_at,
        a.scheduling, a.labels::text AS labels, a.public_addresses, a.http_port, a.capabilities, a.health,
        a.unfenced_sites,
        (SELECT count(*) FROM sites s WHERE s.agent_id = a.id AND s.state <> 'removed')::integer AS placed_sites
        """

    static func insert(
        _ agent: NewAgent, joinToken: JoinTokenID?, now: Date, on connection: PostgresConnection, logger: Logger
    ) async throws {
        let facts = String(decoding: try JSONEncoder().encode(agent.hostFacts), as: UTF8.self)
        try await connection.query("""
            INSERT INTO agents (id, name, certificate_serial, certificate_not_after, join_token_id, agent_version,
                                host_facts, enrolled_at, sealing_public_key)
            VALUES (\(agent.id.uuid), \(agent.name), \(agent.certificateSerial), \(agent.certificateNotAfter),
                    \(joinToken?.uuid), \(agent.agentVersion), \(facts)::jsonb, \(now),
                    \(agent.sealingPublicKey.map { ByteBuffer(bytes: $0) }))
            """, logger: logger)
    }

    /// The agent's registered X25519 public key (raw 32 bytes), nil when it has none yet.
    package func sealingKey(_ id: AgentID) async throws -> [UInt8]? {
        let rows = try await client.query("SELECT sealing_public_key FROM agents WHERE id = \(id.uuid)", logger: logger)
        for try await key in rows.decode(ByteBuffer?.self) { return key.map { Array(buffer: $0) } }
        return nil
    }

    /// Registers a sealing key for an agent that has none; never replaces one (a new key needs a new
    /// enrollment). Returns the key now registered (the given one, or the one already there).
    package func registerSealingKey(_ id: AgentID, key: [UInt8]) async throws -> [UInt8]? {
        try await client.query("""
            UPDATE agents SET sealing_public_key = \(ByteBuffer(bytes: key))
            WHERE id = \(id.uuid) AND sealing_public_key IS NULL AND state <> 'deleted'
            """, logger: logger)
        return try await sealingKey(id)
    }

    package func get(_ id: AgentID) async throws -> AgentRecord? {
        let rows = try await client.query(
            "SELECT \(unescaped: Self.columns) FROM agents a WHERE a.id = \(id.uuid)", logger: logger)
        for try await row in rows { return try Self.decode(row.makeRandomAccess()) }
        return nil
    }

    /// The undeleted agents in one scheduling state (the drain pass asks for the draining ones
    /// every tick: the fleet's rows, host facts and site counts are not read for that).
    package func list(scheduling: String) async throws -> [AgentRecord] {
        try await decodeAll(client.query(
            "SELECT \(unescaped: Self.columns) FROM agents a WHERE a.state <> 'deleted' AND a.scheduling = \(scheduling) ORDER BY a.enrolled_at, a.id",
            logger: logger))
    }

    /// All agents but deleted ones (unless asked for), oldest first.
    package func list(includeDeleted: Bool = false) async throws -> [AgentRecord] {
        let filter = includeDeleted ? "" : "WHERE a.state <> 'deleted'"
        return try await decodeAll(client.query(
            "SELECT \(unescaped: Self.columns) FROM agents a \(unescaped: filter) ORDER BY a.enrolled_at, a.id",
            logger: logger))
    }

    private func decodeAll(_ rows: PostgresRowSequence) async throws -> [AgentRecord] {
        var agents: [AgentRecord] = []
        for try await row in rows { agents.append(try Self.decode(row.makeRandomAccess())) }
        return agents
    }

    /// How many agents are in each state (deleted ones included), for the fleet gauges: counted
    /// by the database, not decoded row by row every few seconds.
    package func countByState() async throws -> [AgentState: Int] {
        var counts: [AgentState: Int] = [:]
        let rows = try await client.query("SELECT state, count(*)::integer FROM agents GROUP BY state", logger: logger)
        for try await (state, count) in rows.decode((String, Int).self) {
            if let state = AgentState(rawValue: state) { counts[state] = count }
        }
        return counts
    }

    /// A page of undeleted agents ordered by id.
    package func list(after cursor: UUID?, limit: Int) async throws -> [AgentRecord] {
        let rows = try await client.query("""
            SELECT \(unescaped: Self.columns) FROM agents a
            WHERE a.state <> 'deleted' AND (\(cursor)::uuid IS NULL OR a.id > \(cursor)::uuid) ORDER BY a.id LIMIT \(limit)
            """, logger: logger)
        var agents: [AgentRecord] = []
        for try await row in rows { agents.append(try Self.decode(row.makeRandomAccess())) }
        return agents
    }

    /// Marks the agent online at stream start and raises its next sequence above what it has seen.
    package func connected(
        _ id: AgentID, version: String, highestSequenceSeen: Int64, metricsAddress: String = "", now: Date
    ) async throws {
        try await client.query("""
            UPDATE agents SET state = 'online', agent_version = \(version), last_heartbeat_at = \(now),
                metrics_address = \(metricsAddress),
                next_sequence = GREATEST(next_sequence, \(highestSequenceSeen) + 1)
            WHERE id = \(id.uuid) AND state <> 'deleted'
            """, logger: logger)
    }

    /// The site layout the agent's sites were last converged to (`agents.site_layout`).
    package func siteLayout(_ id: AgentID) async throws -> Int? {
        let rows = try await client.query("SELECT site_layout FROM agents WHERE id = \(id.uuid)", logger: logger)
        for try await layout in rows.decode(Int.self) { return layout }
        return nil
    }

    /// Raises the agent's site layout to `version` when it is lower; true for the one caller that
    /// raised it (replicas race on an agent's first connect: only one queues its sites' configures).
    package func claimSiteLayout(_ id: AgentID, version: Int, in transaction: AuditedTransaction) async throws -> Bool {
        let rows = try await transaction.connection.query("""
            UPDATE agents SET site_layout = \(version) WHERE id = \(id.uuid) AND site_layout < \(version) RETURNING id
            """, logger: logger)
        for try await _ in rows { return true }
        return false
    }

    /// Records a heartbeat. Returns whether the agent may hold a site lease: it exists and the
    /// failure detector has not declared it failed (its sites may be failing over; it stays
    /// fenced until the leader has seen it back and marked it online).
    @discardableResult
    package func heartbeat(_ id: AgentID, facts: HostFacts, capacity: Capacity, now: Date) async throws -> Bool {
        let json = String(decoding: try JSONEncoder().encode(facts), as: UTF8.self)
        let rows = try await client.query("""
            UPDATE agents SET state = 'online', host_facts = \(json)::jsonb, max_sites = \(capacity.maxSites),
                reported_sites = \(capacity.hostedSites), last_heartbeat_at = \(now)
            WHERE id = \(id.uuid) AND state <> 'deleted'
            RETURNING health
            """, logger: logger)
        for try await health in rows.decode(String.self) { return health != "offline" }
        return false
    }

    package func disconnected(_ id: AgentID) async throws {
        try await client.query(
            "UPDATE agents SET state = 'offline' WHERE id = \(id.uuid) AND state = 'online'", logger: logger)
    }

    /// Marks online agents whose last heartbeat is older than `cutoff` offline; returns how many.
    @discardableResult
    package func markSilentOffline(before cutoff: Date) async throws -> Int {
        let rows = try await client.query("""
            UPDATE agents SET state = 'offline'
            WHERE state = 'online' AND (last_heartbeat_at IS NULL OR last_heartbeat_at < \(cutoff)) RETURNING id
            """, logger: logger)
        var count = 0
        for try await _ in rows { count += 1 }
        return count
    }

    /// Returns false when there was no such (undeleted) agent.
    package func delete(_ id: AgentID, now: Date, in transaction: AuditedTransaction) async throws -> Bool {
        let rows = try await transaction.connection.query(
            "UPDATE agents SET state = 'deleted', deleted_at = \(now) WHERE id = \(id.uuid) AND state <> 'deleted' RETURNING id",
            logger: logger)
        for try await _ in rows { return true }
        return false
    }

    package func renewed(_ id: AgentID, serial: String, notAfter: Date) async throws {
        try await client.query(
            "UPDATE agents SET certificate_serial = \(serial), certificate_not_after = \(notAfter) WHERE id = \(id.uuid)",
            logger: logger)
    }

    /// Takes the agent's next sequence number and advances it, inside the caller's transaction.
    static func takeSequence(_ id: AgentID, on connection: PostgresConnection, logger: Logger) async throws -> Int64 {
        let rows = try await connection.query(
            "UPDATE agents SET next_sequence = next_sequence + 1 WHERE id = \(id.uuid) RETURNING next_sequence - 1 AS taken",
            logger: logger)
        for try await taken in rows.decode(Int64.self) { return taken }
        throw CHOMError(.notFound, "agent \(id) not found")
    }

    static func decode(_ row: PostgresRandomAccessRow) throws -> AgentRecord {
        let id: UUID = try row.value("id")
        let state: String = try row.value("state")
        let facts: String = try row.value("facts")
        let labels: String = try row.value("labels")
        var record = AgentRecord(
            id: AgentID(id), name: try row.value("name"), state: AgentState(rawValue: state) ?? .offline,
            certificateSerial: try row.value("certificate_serial"),
            certificateNotAfter: try row.value("certificate_not_after"), agentVersion: try row.value("agent_version"),
            hostFacts: (try? JSONDecoder().decode(HostFacts.self, from: Data(facts.utf8))) ?? HostFacts(),
            maxSites: try row.value("max_sites"), placedSites: try row.value("placed_sites"),
            nextSequence: try row.value("next_sequence"), metricsAddress: try row.value("metrics_address"), lastHeartbeatAt: try row.value("last_heartbeat_at"),
            enrolledAt: try row.value("enrolled_at"))
        record.scheduling = try row.value("scheduling")
        record.labels = (try? JSONDecoder().decode([String: String].self, from: Data(labels.utf8))) ?? [:]
        record.publicAddresses = try row.value("public_addresses")
        record.httpPort = try row.value("http_port")
        record.capabilities = try row.value("capabilities")
        record.health = try row.value("health")
        record.unfencedSites = Set((try row.value("unfenced_sites") as [UUID]).map(SiteID.init))
        return record
    }
}
