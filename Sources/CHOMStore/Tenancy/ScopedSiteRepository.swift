package import CHOMCore
package import Foundation
import Logging
import PostgresNIO

/// Sites, their releases and their tasks, through a tenant scope. Anything outside the
/// scope does not exist here: lookups answer nil exactly as for a missing row.
package struct ScopedSiteRepository: Sendable {
    let client: PostgresClient
    let logger: Logger
    package let scope: TenantScope

    package static let placementLockKey: Int64 = 0x4348_4F4D_0001

    /// The one place the scope becomes SQL: `(all OR tenant_id = ANY(ids))` on `sites`.
    private var all: Bool { scope.tenantIDs == nil }
    private var ids: [UUID] { (scope.tenantIDs ?? []).map(\.uuid) }
    var scopeAll: Bool { all }
    var scopeIDs: [UUID] { ids }

    /// Creates a site in `tenant` placed on `agent`. The caller chose `agent` holding the placement
    /// lock in this transaction (`FleetRepository.lockPlacement`), so placements are serialized.
    package func create(
        id: SiteID, tenant: TenantID, domain: String, agent chosen: AgentID, now: Date, in transaction: AuditedTransaction
    ) async throws -> SiteRecord {
        guard scope.contains(tenant) else { throw CHOMError(.notFound, "no tenant \(tenant)") }
        let connection = transaction.connection
        try await connection.query("""
            INSERT INTO sites (id, tenant_id, domain, agent_id, state, created_at, updated_at)
            VALUES (\(id.uuid), \(tenant.uuid), \(domain), \(chosen.uuid), \(SiteState.created.rawValue), \(now), \(now))
            """, logger: logger)
        // The database decides whether the domain is free (SiteClaimConflict when another site holds it).
        try await SiteClaims.setNames([domain], site: id, on: connection, logger: logger)
        return SiteRecord(
            id: id, tenantID: tenant, domain: domain, agentID: chosen, state: .created, currentReleaseID: nil,
            currentReleasePath: nil, createdAt: now, updatedAt: now)
    }

    /// A page of sites ordered by domain then id (a removed site keeps its domain, which a new site
    /// may hold), optionally in one tenant. The cursor is `listKey` of the last site of the page.
    package func list(tenant: TenantID? = nil, after cursor: String? = nil, limit: Int = 1000) async throws
        -> [SiteRecord]
    {
        let (afterDomain, afterID) = Self.parseListKey(cursor)
        let rows = try await client.query("""
            SELECT \(unescaped: Self.columns) FROM sites s WHERE (\(all) OR tenant_id = ANY(\(ids)))
              AND (\(tenant?.uuid)::uuid IS NULL OR tenant_id = \(tenant?.uuid)::uuid)
              AND (\(afterDomain)::text IS NULL OR domain > \(afterDomain)::text
                   OR (domain = \(afterDomain)::text AND id > \(afterID)::uuid))
            ORDER BY domain, id LIMIT \(limit)
            """, logger: logger)
        var sites: [SiteRecord] = []
        for try await row in rows { sites.append(try Self.decode(row.makeRandomAccess())) }
        return sites
    }

    /// The sites with a tree on `agent`: placed there, not removed (nor being removed), and
    /// configured or deployed at least once (a site only created has nothing there yet).
    package func list(onAgent agent: AgentID) async throws -> [SiteRecord] {
        let rows = try await client.query("""
            SELECT \(unescaped: Self.columns) FROM sites s WHERE (\(all) OR tenant_id = ANY(\(ids)))
              AND agent_id = \(agent.uuid) AND state NOT IN ('removed', 'removing')
              AND (config <> '{}'::jsonb OR current_release_id IS NOT NULL OR state <> 'created')
            ORDER BY domain, id
            """, logger: logger)
        var sites: [SiteRecord] = []
        for try await row in rows { sites.append(try Self.decode(row.makeRandomAccess())) }
        return sites
    }

    package func get(_ id: SiteID) async throws -> SiteRecord? {
        try await first(client.query(
            """
            SELECT \(unescaped: Self.columns) FROM sites s WHERE id = \(id.uuid) AND (\(all) OR tenant_id = ANY(\(ids)))
            """, logger: logger))
    }

    /// The site with this domain: the live one, else the newest removed one.
    package func get(domain: String) async throws -> SiteRecord? {
        try await first(client.query(
            """
            SELECT \(unescaped: Self.columns) FROM sites s
            WHERE domain = \(domain) AND (\(all) OR tenant_id = ANY(\(ids)))
            ORDER BY (state = 'removed'), created_at DESC, id LIMIT 1
            """, logger: logger))
    }

    /// The site's place in `list`: its domain, a space, its id (a domain holds no space).
    package static func listKey(_ site: SiteRecord) -> String { "\(site.domain) \(site.id)" }

    /// A `listKey`, or a bare domain (cursors issued before ids were part of the key).
    static func parseListKey(_ key: String?) -> (domain: String?, id: UUID?) {
        guard let key else { return (nil, nil) }
        let parts = key.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, let id = UUID(uuidString: String(parts[1])) else {
            return (key, UUID(uuidString: "ffffffff-ffff-ffff-ffff-ffffffffffff"))
        }
        return (String(parts[0]), id)
    }

    /// A release of a site in scope.
    package func release(_ id: ReleaseID) async throws -> ReleaseRecord? {
        let rows = try await client.query("""
            SELECT r.* FROM releases r JOIN sites s ON s.id = r.site_id
            WHERE r.id = \(id.uuid) AND (\(all) OR s.tenant_id = ANY(\(ids)))
            """, logger: logger)
        for try await row in rows { return try ReleaseRepository.decode(row.makeRandomAccess()) }
        return nil
    }

    /// A task of a site in scope. Tasks without a site are fleet work: only the fleet scope sees them.
    package func task(_ id: TaskID) async throws -> TaskRecord? {
        let rows = try await client.query("""
            SELECT t.* FROM tasks t LEFT JOIN sites s ON s.id = t.site_id
            WHERE t.id = \(id.uuid) AND (\(all) OR s.tenant_id = ANY(\(ids)))
            """, logger: logger)
        for try await row in rows { return try TaskQueue.decode(row.makeRandomAccess()) }
        return nil
    }

    /// A site row with when its newest backup succeeded and was last verified.
    static let columns = """
        s.*, s.config::text AS config_text,
        (SELECT max(b.finished_at) FROM backups b
          WHERE b.site_id = s.id AND b.state = 'succeeded' AND b.deleted_at IS NULL AND b.purpose = 'regular') AS last_backup_at,
        (SELECT max(b.verified_at) FROM backups b
          WHERE b.site_id = s.id AND b.state = 'succeeded' AND b.deleted_at IS NULL AND b.purpose = 'regular')
          AS last_verified_backup_at
        """

    func first(_ rows: PostgresRowSequence) async throws -> SiteRecord? {
        for try await row in rows { return try Self.decode(row.makeRandomAccess()) }
        return nil
    }

    static func decode(_ row: PostgresRandomAccessRow) throws -> SiteRecord {
        let id: UUID = try row.value("id")
        let tenant: UUID = try row.value("tenant_id")
        let agent: UUID? = try row.value("agent_id")
        let release: UUID? = try row.value("current_release_id")
        let config: String = row.contains("config_text") ? try row.value("config_text") : "{}"
        var spec = (try? JSONDecoder().decode(SiteSettings.self, from: Data(config.utf8))) ?? SiteSettings()
        spec.kind = SiteSettings.Kind(rawValue: try row.value("kind")) ?? .static
        var record = SiteRecord(
            id: SiteID(id), tenantID: TenantID(tenant), domain: try row.value("domain"),
            agentID: agent.map { AgentID($0) }, state: SiteState(stored: try row.value("state")),
            currentReleaseID: release.map { ReleaseID($0) }, currentReleasePath: try row.value("current_release_path"),
            createdAt: try row.value("created_at"), updatedAt: try row.value("updated_at"), spec: spec,
            tlsCertificate: try row.value("tls_certificate"), tlsKeySealed: try row.value("tls_key_sealed"),
            suspended: try row.value("suspended"), suspensionReasons: try Self.suspensionReasons(row),
            lastBackupAt: row.contains("last_backup_at") ? try row.value("last_backup_at") : nil,
            lastVerifiedBackupAt: row.contains("last_verified_backup_at") ? try row.value("last_verified_backup_at") : nil,
            configVersion: row.contains("config_version") ? try row.value("config_version") : 1)
        if row.contains("failover_enabled") { record.failoverEnabled = try row.value("failover_enabled") }
        return record
    }
}
