package import CHOMCore
import Foundation
import Logging
import PostgresNIO

/// A name or an app port another site holds. Raised when the database refuses a claim
/// (unique_violation on `site_names` or `site_ports`), so it holds under any race; the route says
/// which site holds it only when the caller may see that site (`ScopedSiteRepository.holder`).
package enum SiteClaimConflict: Error, Sendable, Equatable {
    case name(String)
    case port(agent: AgentID, port: Int)
}

/// The names and app port a live site holds (migration 5), claimed and released in the transaction
/// that places, configures, re-places or removes it. Each claim is one INSERT: the primary key
/// decides, never a check before the insert.
enum SiteClaims {
    /// SQLSTATE unique_violation.
    static let uniqueViolation = "23505"

    /// Makes `names` exactly the names `site` holds: drops the others, claims the new ones.
    static func setNames(_ names: [String], site: SiteID, on connection: PostgresConnection, logger: Logger)
        async throws
    {
        let wanted = names.map { $0.lowercased() }
        try await connection.query(
            "DELETE FROM site_names WHERE site_id = \(site.uuid) AND NOT (name = ANY(\(wanted)))", logger: logger)
        var held = Set<String>()
        for try await name in try await connection.query(
            "SELECT name FROM site_names WHERE site_id = \(site.uuid)", logger: logger
        ).decode(String.self) {
            held.insert(name)
        }
        for name in wanted where !held.contains(name) {
            try await claim(.name(name)) {
                try await connection.query(
                    "INSERT INTO site_names (name, site_id) VALUES (\(name), \(site.uuid))", logger: logger)
            }
        }
    }

    /// Makes `port` on `agent` the only port `site` holds there (none when nil). Ports the site holds
    /// on other agents (a restore onto another agent in flight) are left alone.
    static func setPort(
        _ port: Int?, agent: AgentID, site: SiteID, on connection: PostgresConnection, logger: Logger
    ) async throws {
        try await connection.query("""
            DELETE FROM site_ports WHERE site_id = \(site.uuid) AND agent_id = \(agent.uuid)
              AND (\(port)::integer IS NULL OR port <> \(port)::integer)
            """, logger: logger)
        guard let port else { return }
        try await claim(.port(agent: agent, port: port)) {
            try await connection.query("""
                INSERT INTO site_ports (agent_id, port, site_id)
                SELECT \(agent.uuid), \(port), \(site.uuid) WHERE NOT EXISTS (
                    SELECT 1 FROM site_ports WHERE agent_id = \(agent.uuid) AND port = \(port) AND site_id = \(site.uuid))
                """, logger: logger)
        }
    }

    /// Everything `site` holds, on every agent.
    static func releaseAll(site: SiteID, on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query("DELETE FROM site_names WHERE site_id = \(site.uuid)", logger: logger)
        try await connection.query("DELETE FROM site_ports WHERE site_id = \(site.uuid)", logger: logger)
    }

    /// The ports `site` holds on agents other than `agent` (after a restore settles where it lives).
    static func releasePorts(site: SiteID, except agent: AgentID, on connection: PostgresConnection, logger: Logger)
        async throws
    {
        try await connection.query(
            "DELETE FROM site_ports WHERE site_id = \(site.uuid) AND agent_id <> \(agent.uuid)", logger: logger)
    }

    /// Runs `insert`, turning the database's unique_violation into `conflict`.
    private static func claim(_ conflict: SiteClaimConflict, _ insert: () async throws -> Void) async throws {
        do {
            try await insert()
        } catch let error as PSQLError where error.serverInfo?[.sqlState] == uniqueViolation {
            throw conflict
        }
    }
}
