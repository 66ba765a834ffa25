package import CHOMCore
package import Foundation
import Logging
import PostgresNIO

/// Site state changes, all through `SiteLifecycle`: the row is locked in the caller's transaction,
/// the event applied to the state as stored then, the new state and suspension reasons written,
/// and the actions that belong to the database carried out in the same transaction.
extension ScopedSiteRepository {
    /// Applies `event` to `site` as stored now and stores the outcome. Carries out `recordRelease`
    /// (without a path), `placeOn`, `releaseClaims` and `setSuspended`; returns every action, so
    /// that the caller carries out the rest (enqueue, audit, wakeAgent, DNS).
    /// A refusal throws a conflict (409) with the refusal's message, nothing written.
    @discardableResult
    package func transition(_ site: SiteRecord, _ event: SiteEvent, now: Date, in transaction: AuditedTransaction)
        async throws -> [SiteAction]
    {
        guard scope.contains(site.tenantID) else { throw CHOMError(.notFound, "no site \(site.id)") }
        switch try await Self.transition(site.id, event, now: now, on: transaction.connection, logger: logger) {
        case nil: throw CHOMError(.notFound, "no site \(site.id)")
        case .success(let actions)?: return actions
        case .failure(let refusal)?: throw CHOMError(.conflict, "\(site.domain): \(refusal.message)")
        }
    }

    /// The transition on a connection in a transaction (the task result recorder's too). Nil when the
    /// site does not exist. `releasePath` goes with a `recordRelease` action (a task's report).
    static func transition(
        _ site: SiteID, _ event: SiteEvent, releasePath: String? = nil, now: Date, on connection: PostgresConnection,
        logger: Logger
    ) async throws -> Result<[SiteAction], SiteTransitionRefusal>? {
        let rows = try await connection.query("""
            SELECT state, suspension_reasons, current_release_id IS NOT NULL FROM sites WHERE id = \(site.uuid) FOR UPDATE
            """, logger: logger)
        var stored: SiteLifecycle?
        for try await (state, reasons, hasRelease) in rows.decode((String, [String], Bool).self) {
            stored = SiteLifecycle(
                state: SiteState(stored: state), suspension: Self.reasons(reasons), hasRelease: hasRelease)
        }
        guard let before = stored else { return nil }
        var lifecycle = before
        let outcome = lifecycle.handle(event)
        guard case .success(let actions) = outcome else { return outcome }
        if lifecycle.state != before.state || lifecycle.suspension != before.suspension {
            try await connection.query("""
                UPDATE sites SET state = \(lifecycle.state.rawValue),
                    suspension_reasons = \(lifecycle.sortedSuspension.map(\.rawValue)), updated_at = \(now)
                WHERE id = \(site.uuid)
                """, logger: logger)
        }
        for action in actions {
            switch action {
            case .recordRelease(let release):
                try await connection.query("""
                    UPDATE sites SET current_release_id = COALESCE(\(release?.uuid), current_release_id),
                        current_release_path = COALESCE(\(releasePath), current_release_path), updated_at = \(now)
                    WHERE id = \(site.uuid)
                    """, logger: logger)
            case .placeOn(let agent):
                try await connection.query(
                    "UPDATE sites SET agent_id = \(agent.uuid), updated_at = \(now) WHERE id = \(site.uuid)",
                    logger: logger)
                try await SiteClaims.releasePorts(site: site, except: agent, on: connection, logger: logger)
            case .releaseClaims:
                try await SiteClaims.releaseAll(site: site, on: connection, logger: logger)
            case .setSuspended(let suspended):
                try await connection.query(
                    "UPDATE sites SET suspended = \(suspended), updated_at = \(now) WHERE id = \(site.uuid)",
                    logger: logger)
            case .enqueue, .wakeAgent, .audit, .updateDNS, .removeDNS:
                break  // The caller's.
            }
        }
        return outcome
    }

    /// Whether `actions` ask for exactly `task` (its kind, its suspension, a restore's agent): a
    /// task built before the transaction from a site that changed meanwhile is not queued.
    static func asks(_ actions: [SiteAction], for task: NewTask) -> Bool {
        actions.contains { action in
            guard case .enqueue(let kind) = action else { return false }
            switch kind {
            case .configure: return task.kind == .configure
            case .deploy: return task.kind == .deploy
            case .rollback: return task.kind == .rollback
            case .remove: return task.kind == .remove
            case .restore(let agent): return task.kind == .restore && task.agentID == agent
            case .suspend(let suspended): return task.kind == .suspend && task.suspended == suspended
            }
        }
    }

    /// Stored reasons; one this build does not know is dropped (the CHECK constraint admits none).
    static func reasons(_ stored: [String]) -> Set<SuspensionReason> {
        Set(stored.compactMap(SuspensionReason.init(rawValue:)))
    }

    static func suspensionReasons(_ row: PostgresRandomAccessRow) throws -> Set<SuspensionReason> {
        row.contains("suspension_reasons") ? reasons(try row.value("suspension_reasons", as: [String].self)) : []
    }
}
