package import CHOMCore
package import Foundation
package import Logging
package import PostgresNIO

/// What reconciliation knows of one site: where it is placed and in what state, and whether work
/// on it involving the reporting agent is still in flight.
package struct InventorySiteFacts: Sendable, Equatable {
    package var siteID: SiteID
    package var tenantID: TenantID
    package var domain: String
    package var agentID: AgentID?
    package var state: String
    package var currentReleaseID: ReleaseID?
    package var configVersion: Int64
    /// Whether the site should be suspended (it has suspension reasons): what every task's
    /// `SiteConfig.suspended` says, whatever the last suspend task applied.
    package var suspended: Bool
    /// When the site was placed on its current agent.
    package var placedAt: Date
    /// Configured or deployed at least once: its agent is expected to hold a tree.
    package var hasTree: Bool
    /// A task of the site on the reporting agent is queued, sent or accepted, or a migration of the
    /// site from or to it is open.
    package var inFlight: Bool
    /// A migration of the site from or to the reporting agent is open (its proxy step covers a
    /// copy left on the old host).
    package var migrating = false
    /// The site failed over away from the reporting agent: its copy there may have diverged.
    package var failedOverFrom = false

    package init(
        siteID: SiteID, tenantID: TenantID, domain: String, agentID: AgentID?, state: String,
        currentReleaseID: ReleaseID?, configVersion: Int64, suspended: Bool, placedAt: Date, hasTree: Bool,
        inFlight: Bool
    ) {
        self.siteID = siteID
        self.tenantID = tenantID
        self.domain = domain
        self.agentID = agentID
        self.state = state
        self.currentReleaseID = currentReleaseID
        self.configVersion = configVersion
        self.suspended = suspended
        self.placedAt = placedAt
        self.hasTree = hasTree
        self.inFlight = inFlight
    }
}

/// The reads reconciliation makes, inside the transaction that applies its answer: the sites an
/// agent should hold and the ones it reported, each with its facts. Fleet-wide (no tenant scope):
/// only the coordinator calls it, about an agent's own report.
package struct InventoryRepository: Sendable {
    let client: PostgresClient
    let logger: Logger

    package init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// Serializes reconciliations of one agent until the transaction ends, so replicas that receive
    /// two of its inventories one after the other never queue the same repair twice.
    package func lock(_ agent: AgentID, in transaction: AuditedTransaction) async throws {
        try await transaction.connection.query(
            "SELECT pg_advisory_xact_lock(hashtextextended(\("chom-inventory:\(agent)"), 0))", logger: logger)
    }

    /// The sites placed on `agent` (but removed ones) and the sites in `reported` that the agent has
    /// hosted (a configure, deploy, rollback or restore of it succeeded there, or a migration went
    /// from or to it), wherever they are now. A reported site it never hosted is left out: a
    /// compromised agent naming other sites gets no task about them, so none of their secrets.
    package func facts(agent: AgentID, reported: [SiteID], in transaction: AuditedTransaction) async throws
        -> [InventorySiteFacts]
    {
        let rows = try await transaction.connection.query("""
            SELECT s.id, s.tenant_id, s.domain, s.agent_id, s.state, s.current_release_id, s.config_version,
                cardinality(s.suspension_reasons) > 0 AS suspended, s.placed_at,
                (s.config <> '{}'::jsonb OR s.current_release_id IS NOT NULL OR s.state <> 'created') AS has_tree,
                (EXISTS (SELECT 1 FROM tasks t WHERE t.site_id = s.id AND t.agent_id = \(agent.uuid)
                          AND t.state IN ('queued', 'sent', 'accepted'))
                 OR EXISTS (SELECT 1 FROM site_migrations m WHERE m.site_id = s.id AND m.finished_at IS NULL
                          AND \(agent.uuid) IN (m.from_agent, m.to_agent))) AS in_flight,
                EXISTS (SELECT 1 FROM site_migrations m WHERE m.site_id = s.id AND m.finished_at IS NULL
                          AND \(agent.uuid) IN (m.from_agent, m.to_agent)) AS migrating,
                EXISTS (SELECT 1 FROM site_migrations m WHERE m.site_id = s.id AND m.reason = 'failover'
                          AND m.from_agent = \(agent.uuid)) AS failed_over_from
            FROM sites s
            WHERE (s.agent_id = \(agent.uuid) AND s.state <> 'removed')
               OR (s.id = ANY(\(reported.map(\.uuid))) AND (
                    EXISTS (SELECT 1 FROM tasks t WHERE t.site_id = s.id AND t.agent_id = \(agent.uuid)
                              AND t.kind IN ('configure', 'deploy', 'rollback', 'restore') AND t.state = 'succeeded')
                    OR EXISTS (SELECT 1 FROM site_migrations m WHERE m.site_id = s.id
                              AND \(agent.uuid) IN (m.from_agent, m.to_agent))))
            ORDER BY s.id
            """, logger: logger)
        var facts: [InventorySiteFacts] = []
        for try await row in rows {
            let row = row.makeRandomAccess()
            let agentID: UUID? = try row.value("agent_id")
            let release: UUID? = try row.value("current_release_id")
            var fact = InventorySiteFacts(
                siteID: SiteID(try row.value("id", as: UUID.self)), tenantID: TenantID(try row.value("tenant_id", as: UUID.self)),
                domain: try row.value("domain"), agentID: agentID.map { AgentID($0) }, state: try row.value("state"),
                currentReleaseID: release.map { ReleaseID($0) }, configVersion: try row.value("config_version"),
                suspended: try row.value("suspended"), placedAt: try row.value("placed_at"),
                hasTree: try row.value("has_tree"), inFlight: try row.value("in_flight"))
            fact.migrating = try row.value("migrating")
            fact.failedOverFrom = try row.value("failed_over_from")
            facts.append(fact)
        }
        return facts
    }

    /// Site ids for trees an agent reported by domain only (made before it kept records): among the
    /// sites with that domain the agent has hosted (placed there, or a configure, deploy, rollback or
    /// restore of it succeeded there), the one placed on `agent`, else the live one, else the newest
    /// removed one. A site the agent never hosted is never resolved: an agent naming another's
    /// domain learns nothing and gets no task about it.
    package func resolve(domains: [String], agent: AgentID) async throws -> [String: SiteID] {
        guard !domains.isEmpty else { return [:] }
        let rows = try await client.query("""
            SELECT DISTINCT ON (domain) domain, id FROM sites s WHERE domain = ANY(\(domains))
              AND (s.agent_id = \(agent.uuid)
                   OR EXISTS (SELECT 1 FROM tasks t WHERE t.site_id = s.id AND t.agent_id = \(agent.uuid)
                              AND t.kind IN ('configure', 'deploy', 'rollback', 'restore') AND t.state = 'succeeded'))
            ORDER BY domain, (agent_id IS DISTINCT FROM \(agent.uuid)), (state = 'removed'), created_at DESC, id
            """, logger: logger)
        var ids: [String: SiteID] = [:]
        for try await (domain, id) in rows.decode((String, UUID).self) { ids[domain] = SiteID(id) }
        return ids
    }
}
