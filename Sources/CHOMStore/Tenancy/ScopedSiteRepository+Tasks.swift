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
        // Another configure since `site` was read would be overwritten by a stale configuration.
        try await requireUnchanged(site, in: transaction)
        let actions = try await transition(site, .configureRequested, now: now, in: transaction)
        guard Self.asks(actions, for: task) else { throw CHOMError(.conflict, "site \(site.domain) changed meanwhile; try again") }
        let json = String(decoding: try JSONEncoder().encode(spec), as: UTF8.self)
        let connection = transaction.connection
        try await connection.query("""
            UPDATE sites SET kind = \(spec.kind.rawValue), config = \(json)::jsonb, config_version = config_version + 1,
                updated_at = \(now)
            WHERE id = \(site.id.uuid)
            """, logger: logger)
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

    /// Locks the site's row and checks that it is still as `site` was read: the same configuration
    /// version and suspension, placed on the same agent. A task built from a record read before the
    /// transaction carries that record's configuration (with its suspension) and goes to that
    /// record's agent: after another configure, a suspend or resume, or a migration's or failover's
    /// switch committed meanwhile, it would put back a stale configuration, lift or restore a
    /// suspension, or go to an agent that let the site go (a backup of a copy nobody serves).
    /// Refused instead: a conflict, and the caller's transaction writes nothing. The row stays
    /// locked until the commit, so nothing changes between this check and the task's insert.
    package func requireUnchanged(_ site: SiteRecord, in transaction: AuditedTransaction) async throws {
        guard try await isUnchanged(site, in: transaction) else {
            throw CHOMError(.conflict, "site \(site.domain) changed meanwhile; try again")
        }
    }

    /// ``requireUnchanged(_:in:)`` as a answer, for passes that skip a changed site and go on.
    package func isUnchanged(_ site: SiteRecord, in transaction: AuditedTransaction) async throws -> Bool {
        guard scope.contains(site.tenantID) else { throw CHOMError(.notFound, "no site \(site.id)") }
        let rows = try await transaction.connection.query("""
            SELECT config_version, agent_id, suspension_reasons FROM sites WHERE id = \(site.id.uuid) FOR UPDATE
            """, logger: logger)
        var stored: (version: Int64, agent: UUID?, reasons: [String])?
        for try await (version, agent, reasons) in rows.decode((Int64, UUID?, [String]).self) {
            stored = (version, agent, reasons)
        }
        guard let stored else { throw CHOMError(.notFound, "no site \(site.id)") }
        return stored.version == site.configVersion && stored.agent == site.agentID?.uuid
            && Set(stored.reasons) == Set(site.suspensionReasons.map(\.rawValue))
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
