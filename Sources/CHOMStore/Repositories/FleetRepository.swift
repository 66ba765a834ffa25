package import CHOMCore
package import Foundation
import Logging
package import PostgresNIO

/// What the scheduler reads (agents and placed sites) and the agents' scheduling axis it writes.
package struct FleetRepository: Sendable {
    let client: PostgresClient
    let logger: Logger

    /// Every site that occupies an agent: placed and not removed.
    package func placedSites(on connection: PostgresConnection? = nil) async throws -> [FleetSiteRow] {
        let sql: PostgresQuery = """
            SELECT id, tenant_id, domain, kind, agent_id, state, requests::text FROM sites
            WHERE agent_id IS NOT NULL AND state <> 'removed' ORDER BY id
            """
        let rows = if let connection { try await connection.query(sql, logger: logger) } else {
            try await client.query(sql, logger: logger)
        }
        var sites: [FleetSiteRow] = []
        for try await (id, tenant, domain, kind, agent, state, requests) in rows.decode(
            (UUID, UUID, String, String, UUID, String, String?).self)
        {
            sites.append(FleetSiteRow(
                siteID: SiteID(id), tenantID: TenantID(tenant), domain: domain,
                kind: SiteSettings.Kind(rawValue: kind) ?? .static, agentID: AgentID(agent), state: state,
                requestsJSON: requests))
        }
        return sites
    }

    /// Sets an agent's scheduling state; returns the previous one, nil when there is no such agent.
    package func setScheduling(
        _ agent: AgentID, to scheduling: String, in transaction: AuditedTransaction
    ) async throws -> String? {
        let rows = try await transaction.connection.query("""
            UPDATE agents a SET scheduling = \(scheduling) FROM (SELECT id, scheduling FROM agents WHERE id = \(agent.uuid)
              AND state <> 'deleted' FOR UPDATE) old
            WHERE a.id = old.id RETURNING old.scheduling
            """, logger: logger)
        for try await previous in rows.decode(String.self) { return previous }
        return nil
    }

    /// Replaces an agent's labels; false when there is no such agent.
    package func setLabels(_ agent: AgentID, _ labels: [String: String], in transaction: AuditedTransaction) async throws
        -> Bool
    {
        let json = String(decoding: try JSONEncoder().encode(labels), as: UTF8.self)
        let rows = try await transaction.connection.query("""
            UPDATE agents SET labels = \(json)::jsonb WHERE id = \(agent.uuid) AND state <> 'deleted' RETURNING id
            """, logger: logger)
        for try await _ in rows { return true }
        return false
    }

    /// The sites an agent's fresh inventory reported at configuration version 0.
    package func setUnfencedSites(_ agent: AgentID, _ sites: [SiteID]) async throws {
        try await client.query(
            "UPDATE agents SET unfenced_sites = \(sites.map(\.uuid)) WHERE id = \(agent.uuid)", logger: logger)
    }

    /// What an agent announced at connect: its public addresses and capabilities.
    package func announced(_ agent: AgentID, addresses: [String], httpPort: Int, capabilities: [String]) async throws {
        try await client.query("""
            UPDATE agents SET public_addresses = \(addresses), http_port = \(httpPort), capabilities = \(capabilities)
            WHERE id = \(agent.uuid) AND state <> 'deleted'
            """, logger: logger)
    }

    /// Sets a site's own resource requests (JSON object), or clears them (nil).
    package func setRequests(_ site: SiteID, json: String?, in transaction: AuditedTransaction) async throws {
        try await transaction.connection.query(
            "UPDATE sites SET requests = \(json)::jsonb WHERE id = \(site.uuid)", logger: logger)
    }

    /// Turns failover on or off for a site.
    package func setFailover(_ site: SiteID, enabled: Bool, in transaction: AuditedTransaction) async throws {
        try await transaction.connection.query(
            "UPDATE sites SET failover_enabled = \(enabled) WHERE id = \(site.uuid)", logger: logger)
    }

    /// A migration's switch: the site is placed on `agent`, live on the release its last restore
    /// there made, and lets go of the app port it held on its old agent.
    package func switchPlacement(_ site: SiteID, to agent: AgentID, now: Date, in transaction: AuditedTransaction)
        async throws
    {
        let connection = transaction.connection
        try await connection.query("""
            UPDATE sites s SET agent_id = \(agent.uuid), updated_at = \(now), placed_at = \(now),
                current_release_id = COALESCE(r.result_release_id, r.release_id, s.current_release_id),
                current_release_path = COALESCE(r.release_path, s.current_release_path)
            FROM (SELECT NULL::uuid AS none) n
            LEFT JOIN LATERAL (
                SELECT result_release_id, release_id, release_path FROM tasks
                WHERE site_id = \(site.uuid) AND agent_id = \(agent.uuid) AND kind = 'restore' AND state = 'succeeded'
                ORDER BY finished_at DESC LIMIT 1) r ON true
            WHERE s.id = \(site.uuid)
            """, logger: logger)
        try await SiteClaims.releasePorts(site: site, except: agent, on: connection, logger: logger)
    }

    /// The sites DNS upkeep visits: every placed one, and those removed since `removedSince`.
    package func sitesForDNS(removedSince: Date) async throws -> [SiteID] {
        let rows = try await client.query("""
            SELECT id FROM sites
            WHERE (agent_id IS NOT NULL AND state NOT IN ('removed', 'removing'))
               OR (state = 'removed' AND updated_at >= \(removedSince))
            ORDER BY id
            """, logger: logger)
        var ids: [SiteID] = []
        for try await id in rows.decode(UUID.self) { ids.append(SiteID(id)) }
        return ids
    }

    /// Takes the fleet-wide placement lock for the rest of the transaction (site creation,
    /// migrations and the rebalance planner place one at a time).
    package func lockPlacement(in transaction: AuditedTransaction) async throws {
        try await transaction.connection.query(
            "SELECT pg_advisory_xact_lock(\(ScopedSiteRepository.placementLockKey))", logger: logger)
    }
}
