import CHOMAPI
import CHOMCore
import CHOMStore
import Foundation
import Hummingbird

/// A site that a task is about to be sent for, as a route sees it.
struct SiteTaskTarget: Sendable {
    let site: SiteRecord
    let agent: AgentID
    let organization: OrganizationID?
    let scoped: ScopedSiteRepository
}

extension AdminAPI {
    var fleetPlacement: FleetPlacement { FleetPlacement(store: store, configuration: configuration.fleet) }

    var siteTasks: SiteTaskBuilder {
        SiteTaskBuilder(
            secretBox: identity.secretBox, backups: configuration.backups,
            maxAttempts: configuration.dispatch.maxDeliveryAttempts)
    }

    /// The site named by `parameter` (404 when invisible, 403 when the role is too weak), placed on
    /// an agent (409 otherwise) and not removed (409; `allowRemoved` for restores).
    func taskTarget(
        _ parameter: String?, _ caller: Caller, minimum: OrganizationRole, allowRemoved: Bool = false
    ) async throws -> SiteTaskTarget {
        let site = try await site(parameter, caller, minimum: minimum)
        if !allowRemoved, site.isRemoved {
            throw CHOMError(.conflict, "site \(site.domain) is \(site.state.rawValue)")
        }
        guard let agent = site.agentID else { throw CHOMError(.conflict, "site \(site.domain) is not placed on an agent") }
        return SiteTaskTarget(
            site: site, agent: agent, organization: try await store.organizations.tenant(site.tenantID)?.organizationID,
            scoped: store.sites(in: try caller.signedIn.scope(atLeast: minimum)))
    }

    /// Enqueues `task` with its audit entry (after `claim` when given: names or a port the task
    /// needs), wakes its agent (a 409 when the site changed since `target` was read: another
    /// configure, or a move to another agent), and answers 202 with the queued task. With an `event`, the site's
    /// lifecycle takes it in the same transaction (a refusal is a 409) and names the audit action;
    /// `action` names it otherwise.
    func enqueue(
        _ task: NewTask, for target: SiteTaskTarget, _ caller: Caller, action: String, event: SiteEvent? = nil,
        details: [String: String] = [:], claim: ((AuditedTransaction) async throws -> Void)? = nil
    ) async throws -> Response {
        try await claiming(caller) { try await write(caller) { transaction in
            // The task was built from `target.site`: refused if the site changed since it was read.
            try await target.scoped.requireUnchanged(target.site, in: transaction)
            try await claim?(transaction)
            let actions = try await target.scoped.enqueue(task, for: target.site, event: event, now: caller.now, in: transaction)
            try await transaction.record(caller.audit(
                actions.auditAction ?? action, target: "site:\(target.site.id)", organization: target.organization,
                tenant: target.site.tenantID, details: details.merging(["task": task.id.description]) { $1 }))
        } }
        return try await queued(task.id, agent: task.agentID, scoped: target.scoped)
    }

    /// The site's lifecycle after `event`, as the site was read: for building the task the event
    /// asks for (the transaction checks it against the row as stored then). A refusal is a 409.
    func preview(_ event: SiteEvent, of site: SiteRecord) throws -> SiteLifecycle {
        var lifecycle = site.lifecycle
        if case .failure(let refusal) = lifecycle.handle(event) {
            throw CHOMError(.conflict, "\(site.domain): \(refusal.message)")
        }
        return lifecycle
    }

    /// Wakes the agent's stream and answers 202 with the task as stored.
    func queued(_ id: TaskID, agent: AgentID, scoped: ScopedSiteRepository) async throws -> Response {
        await connections.wake(agent)
        guard let record = try await scoped.task(id) else { throw CHOMError(.internal, "task vanished") }
        return try StrictJSON.response(record.api, status: .accepted)
    }
}
