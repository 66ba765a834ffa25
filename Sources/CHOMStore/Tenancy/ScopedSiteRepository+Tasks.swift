package import CHOMCore
package import Foundation
import Logging
import PostgresNIO

/// A change to a site's TLS material in `configure`.
package enum TLSChange: Sendable, Equatable {
    case keep
    case remove
    /// The certificate chain (PEM) and the private key sealed by the coordinator.
    case set(certificate: String, sealedKey: String)
}

/// Site tasks through the tenant scope: each is inserted in the caller's audited transaction
/// together with the change that causes it.
extension ScopedSiteRepository {
    /// Enqueues `task` about `site`. With an `event`, the site's lifecycle takes it first
    /// (`transition`: a refusal is a conflict) and must ask for this very task (else the site changed
    /// since the task was built: a conflict too); the actions are returned.
    @discardableResult
    package func enqueue(
        _ task: NewTask, for site: SiteRecord, event: SiteEvent? = nil, now: Date, in transaction: AuditedTransaction
    ) async throws -> [SiteAction] {
        guard scope.contains(site.tenantID), task.siteID == site.id else { throw CHOMError(.notFound, "no site \(site.id)") }
        var actions: [SiteAction] = []
        if let event {
            actions = try await transition(site, event, now: now, in: transaction)
            guard Self.asks(actions, for: task) else {
                throw CHOMError(.conflict, "site \(site.domain) changed meanwhile; try again")
            }
        }
        try await TaskQueue.insert(task, now: now, on: transaction.connection, logger: logger)
        return actions
    }

    /// Stores a validated configuration (kind, spec, TLS) with the names and app port it claims, and
    /// enqueues the configure task for it (the lifecycle takes `configureRequested` first: a refusal
    /// is a conflict).
    package func configure(
        _ site: SiteRecord, spec: SiteSettings, tls: TLSChange, task: NewTask, now: Date, in transaction: AuditedTransaction
    ) async throws {
        guard scope.contains(site.tenantID) else { throw CHOMError(.notFound, "no site \(site.id)") }
        let actions = try await transition(site, .configureRequested, now: now, in: transaction)
        guard Self.asks(actions, for: task) else { throw CHOMError(.conflict, "site \(site.domain) changed meanwhile; try again") }
        let json = String(decoding: try JSONEncoder().encode(spec), as: UTF8.self)
        let connection = transaction.connection
        // `site` was read before this transaction (the task was built from it). Another configure or
        // a migration's switch since then would be overwritten by a stale configuration, or the task
        // sent to the agent that no longer holds the site: refused instead (the row is locked by
        // the transition above, so nothing changes between this check and the commit).
        let rows = try await connection.query("""
            UPDATE sites SET kind = \(spec.kind.rawValue), config = \(json)::jsonb, config_version = config_version + 1,
                updated_at = \(now)
            WHERE id = \(site.id.uuid) AND config_version = \(site.configVersion)
                AND agent_id IS NOT DISTINCT FROM \(site.agentID?.uuid)
            RETURNING id
            """, logger: logger)
        var updated = false
        for try await _ in rows { updated = true }
        guard updated else { throw CHOMError(.conflict, "site \(site.domain) changed meanwhile; try again") }
        // The names and the port, claimed after the row is locked by the update (SiteClaimConflict
        // when another site holds one).
        try await SiteClaims.setNames([site.domain] + spec.aliases, site: site.id, on: connection, logger: logger)
        if let agent = site.agentID {
            try await SiteClaims.setPort(
                spec.kind == .app ? spec.appPort : nil, agent: agent, site: site.id, on: connection, logger: logger)
        }
        switch tls {
        case .keep:
            break
        case .remove:
            try await connection.query(
                "UPDATE sites SET tls_certificate = NULL, tls_key_sealed = NULL WHERE id = \(site.id.uuid)",
                logger: logger)
        case .set(let certificate, let sealedKey):
            try await connection.query("""
                UPDATE sites SET tls_certificate = \(certificate), tls_key_sealed = \(sealedKey)
                WHERE id = \(site.id.uuid)
                """, logger: logger)
        }
        try await TaskQueue.insert(task, now: now, on: connection, logger: logger)
    }

    /// Whether `release` was a release of `site`: uploaded for it, or made live on it by a task
    /// (git deploys, restores). Another site's release answers false, exactly like a missing one.
    package func hasRelease(_ release: ReleaseID, site: SiteRecord) async throws -> Bool {
        guard scope.contains(site.tenantID) else { return false }
        let rows = try await client.query("""
            SELECT 1 FROM releases WHERE id = \(release.uuid) AND site_id = \(site.id.uuid)
            UNION ALL
            SELECT 1 FROM tasks WHERE result_release_id = \(release.uuid) AND site_id = \(site.id.uuid)
              AND state = 'succeeded'
            LIMIT 1
            """, logger: logger)
        for try await _ in rows { return true }
        return false
    }
}
