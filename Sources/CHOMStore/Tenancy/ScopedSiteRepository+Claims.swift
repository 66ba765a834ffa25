package import CHOMCore
import Foundation
import Logging
import PostgresNIO

/// Who holds a name or a port, through the scope: a holder outside it answers nil, exactly like a
/// free name, so that a conflict can be reported without revealing another tenant's site.
extension ScopedSiteRepository {
    package func holder(of conflict: SiteClaimConflict) async throws -> SiteRecord? {
        let rows: PostgresRowSequence
        switch conflict {
        case .name(let name):
            rows = try await client.query("""
                SELECT \(unescaped: Self.columns) FROM sites s JOIN site_names n ON n.site_id = s.id
                WHERE n.name = \(name) AND (\(scopeAll) OR s.tenant_id = ANY(\(scopeIDs)))
                """, logger: logger)
        case .port(let agent, let port):
            rows = try await client.query("""
                SELECT \(unescaped: Self.columns) FROM sites s JOIN site_ports p ON p.site_id = s.id
                WHERE p.agent_id = \(agent.uuid) AND p.port = \(port) AND (\(scopeAll) OR s.tenant_id = ANY(\(scopeIDs)))
                """, logger: logger)
        }
        return try await first(rows)
    }

    /// Claims what `site` needs to be restored onto `agent`, in the restore's transaction: its names
    /// again when it was removed, and its app port on `agent`. The port it holds elsewhere is let go
    /// when the restore's result settles where the site lives (`TaskResultRecorder`).
    package func claimForRestore(_ site: SiteRecord, onto agent: AgentID, in transaction: AuditedTransaction)
        async throws
    {
        guard scope.contains(site.tenantID) else { throw CHOMError(.notFound, "no site \(site.id)") }
        let connection = transaction.connection
        if site.state == .removed {
            try await SiteClaims.setNames([site.domain] + site.spec.aliases, site: site.id, on: connection, logger: logger)
        }
        if site.spec.kind == .app, let port = site.spec.appPort {
            try await SiteClaims.setPort(port, agent: agent, site: site.id, on: connection, logger: logger)
        }
    }
}
