package import CHOMCore
package import Foundation
import Logging
import PostgresNIO

/// An agent as placement sees it.
package struct PlacementCandidate: Sendable, Equatable {
    package var agentID: AgentID
    package var maxSites: Int
    package var placedSites: Int
}

package struct SiteRepository: Sendable {
    let client: PostgresClient
    let logger: Logger

    static let placementLockKey: Int64 = 0x4348_4F4D_0001

    /// Creates a site and places it, serialized with other placements. `choose` sees the
    /// online agents with their placed-site counts and returns the chosen one, or nil.
    package func create(
        id: SiteID, domain: String, now: Date, choose: @Sendable ([PlacementCandidate]) -> AgentID?
    ) async throws -> SiteRecord {
        try await client.transaction(logger: logger) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(Self.placementLockKey))", logger: logger)
            let existing = try await connection.query("SELECT id FROM sites WHERE domain = \(domain)", logger: logger)
            for try await _ in existing { throw CHOMError(.conflict, "a site with domain \(domain) already exists") }
            let rows = try await connection.query("""
                SELECT a.id, a.max_sites, (SELECT count(*) FROM sites s WHERE s.agent_id = a.id)::integer AS placed
                FROM agents a WHERE a.state = 'online' ORDER BY a.enrolled_at, a.id
                """, logger: logger)
            var candidates: [PlacementCandidate] = []
            for try await (agent, maxSites, placed) in rows.decode((UUID, Int, Int).self) {
                candidates.append(PlacementCandidate(agentID: AgentID(agent), maxSites: maxSites, placedSites: placed))
            }
            guard let chosen = choose(candidates) else {
                throw CHOMError(.unavailable, "no online agent has room for a new site")
            }
            try await connection.query("""
                INSERT INTO sites (id, domain, agent_id, state, created_at, updated_at)
                VALUES (\(id.uuid), \(domain), \(chosen.uuid), 'created', \(now), \(now))
                """, logger: logger)
            return SiteRecord(
                id: id, domain: domain, agentID: chosen, state: "created", currentReleaseID: nil,
                currentReleasePath: nil, createdAt: now, updatedAt: now)
        }
    }

    package func list() async throws -> [SiteRecord] {
        var sites: [SiteRecord] = []
        let rows = try await client.query("SELECT * FROM sites ORDER BY domain", logger: logger)
        for try await row in rows { sites.append(try Self.decode(row.makeRandomAccess())) }
        return sites
    }

    package func get(_ id: SiteID) async throws -> SiteRecord? {
        let rows = try await client.query("SELECT * FROM sites WHERE id = \(id.uuid)", logger: logger)
        for try await row in rows { return try Self.decode(row.makeRandomAccess()) }
        return nil
    }

    package func get(domain: String) async throws -> SiteRecord? {
        let rows = try await client.query("SELECT * FROM sites WHERE domain = \(domain)", logger: logger)
        for try await row in rows { return try Self.decode(row.makeRandomAccess()) }
        return nil
    }

    /// Marks the site as deploying and enqueues the deploy task, in one transaction.
    package func startDeploy(_ siteID: SiteID, task: NewTask, now: Date) async throws {
        try await client.transaction(logger: logger) { connection in
            try await connection.query(
                "UPDATE sites SET state = 'deploying', updated_at = \(now) WHERE id = \(siteID.uuid)", logger: logger)
            try await TaskQueue.insert(task, now: now, on: connection, logger: logger)
        }
    }

    static func decode(_ row: PostgresRandomAccessRow) throws -> SiteRecord {
        let id: UUID = try row.value("id")
        let agent: UUID? = try row.value("agent_id")
        let release: UUID? = try row.value("current_release_id")
        return SiteRecord(
            id: SiteID(id), domain: try row.value("domain"), agentID: agent.map { AgentID($0) },
            state: try row.value("state"), currentReleaseID: release.map { ReleaseID($0) },
            currentReleasePath: try row.value("current_release_path"), createdAt: try row.value("created_at"),
            updatedAt: try row.value("updated_at"))
    }
}
