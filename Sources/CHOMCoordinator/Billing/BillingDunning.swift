import CHOMAudit
import CHOMCore
import CHOMProtocol
import CHOMStore
import Foundation
import Logging

/// Dunning (the issue "Billing"): payment facts and the grace's end drive each subscription's
/// `SubscriptionLifecycle`, and the organization's sites follow its status through the existing
/// suspend task with the reason "billing": suspended while the subscription is, lifted when it is
/// active again (a site that an admin suspended stays suspended: its "manual" reason holds it).
///
/// The sites are reconciled, not commanded: each pass compares every live site with its
/// subscription and queues the suspend or resume that is missing, so a site that was moving, or a
/// pass that crashed, is caught up by the next one.
///
/// Each transition's email to the owners is enqueued in the notifications outbox in the same
/// transaction (`NotificationDelivery` sends it later).
struct BillingDunning: Sendable {
    let store: Store
    let quotas: BillingQuotas
    let tasks: SiteTaskBuilder
    let connections: AgentConnections?
    /// From a failed payment to the suspension (`billing.graceDays`).
    let grace: TimeInterval
    let logger: Logger

    static let actor = "system:billing"

    /// Applies a payment fact or timer to the organization's subscription, with an audit entry per
    /// transition, in `transaction`. Returns the lifecycle's actions (empty: nothing changed).
    @discardableResult
    func apply(
        _ event: SubscriptionEvent, organization: OrganizationID, now: Date, audit: (String, [String: String]) -> AuditEntry,
        in transaction: AuditedTransaction
    ) async throws -> [SubscriptionAction] {
        let (subscription, _) = try await quotas.subscription(organization, now: now, in: transaction)
        var lifecycle = SubscriptionLifecycle(
            status: subscription.status, graceEndsAt: subscription.graceEndsAt,
            cancelAtPeriodEnd: subscription.cancelAtPeriodEnd, grace: grace)
        let actions: [SubscriptionAction]
        switch lifecycle.handle(event) {
        case .success(let taken): actions = taken
        case .failure(let refusal): throw CHOMError(.conflict, refusal.message)
        }
        guard lifecycle.status != subscription.status || lifecycle.graceEndsAt != subscription.graceEndsAt
            || lifecycle.cancelAtPeriodEnd != subscription.cancelAtPeriodEnd
        else { return actions }
        var next = subscription
        next.status = lifecycle.status
        next.graceEndsAt = lifecycle.graceEndsAt
        next.cancelAtPeriodEnd = lifecycle.cancelAtPeriodEnd
        next.updatedAt = now
        try await store.billing.save(next, in: transaction)
        for case .audit(let action, let from, let to) in actions {
            var details = ["from": from.rawValue, "to": to.rawValue, "event": event.noun]
            if next.cancelAtPeriodEnd { details["cancel_at"] = next.period.end.formatted(.iso8601) }
            if let ends = next.graceEndsAt { details["grace_ends_at"] = ends.formatted(.iso8601) }
            try await transaction.record(audit("billing.subscription.\(action)", details))
        }
        // The owners' emails are written with the change, so they go out if and only if it commits.
        let name = try await store.organizations.get(organization)?.name ?? organization.description
        for case .notifyOwners(let notice) in actions {
            let (subject, body) = BillingNoticeText.message(notice, organization: name)
            try await store.notifications.enqueue(
                NotificationContent(
                    event: BillingNoticeText.event(notice), subject: subject, body: body,
                    data: ["organization": name, "status": next.status.rawValue]),
                to: organization, now: now, in: transaction)
        }
        return actions
    }

    /// One pass as the leader of `epoch`: past-due subscriptions whose grace has ended are
    /// suspended, then every site out of step with its subscription gets its suspend or resume.
    /// Returns how many subscriptions were suspended and how many site tasks were queued.
    @discardableResult
    func tick(now: Date, epoch: Int64? = nil) async throws -> (suspended: Int, tasks: Int) {
        var suspended = 0
        for organization in try await store.billing.graceEnded(now: now) {
            let actions: [SubscriptionAction]
            do {
                actions = try await store.write(now: now) { transaction in
                if let epoch { try await store.leadership.checkEpoch(epoch, in: transaction) }
                let actions = try await apply(
                    .graceExpired(now: now), organization: organization, now: now,
                    audit: { action, details in
                        AuditEntry(
                            time: now, actor: Self.actor, organizationID: organization.description, action: action,
                            target: "organization:\(organization)", details: details)
                    }, in: transaction)
                if actions.isEmpty {
                    // Nothing to record means nothing to commit; the grace was not over after all.
                    throw NothingChanged()
                }
                return actions
                }
            } catch is NothingChanged {
                continue  // A payment came first, or the grace was extended: nothing to do.
            } catch let error as CHOMError where error.code == .conflict {
                continue
            }
            if actions.contains(.suspendSites) { suspended += 1 }
        }
        return (suspended, try await reconcileSites(now: now, epoch: epoch))
    }

    private struct NothingChanged: Error {}

    /// Queues the suspend (or resume) of every site out of step with its subscription.
    func reconcileSites(now: Date, epoch: Int64? = nil) async throws -> Int {
        let fleet = store.sites(in: .fleet)
        var queued = 0
        for (id, suspend) in try await store.billing.sitesOutOfStep() {
            guard let site = try await fleet.get(id), let agent = site.agentID else { continue }
            let event: SiteEvent = suspend ? .suspendRequested(.billing) : .resumeRequested(.billing)
            var lifecycle = site.lifecycle
            guard case .success = lifecycle.handle(event) else { continue }
            var after = site
            after.suspensionReasons = lifecycle.suspension
            do {
                let config = try tasks.siteConfig(after)
                let task = try tasks.task(.suspend, site: site, agent: agent, suspended: lifecycle.isSuspended) { message in
                    var task = Chom_Agent_V1_SuspendSiteTask()
                    task.site = config
                    task.suspended = lifecycle.isSuspended
                    message.suspend = task
                }
                let organization = try await store.organizations.tenant(site.tenantID)?.organizationID
                try await store.write(now: now) { transaction in
                    if let epoch { try await store.leadership.checkEpoch(epoch, in: transaction) }
                    // Changed since it was read (a move, a deploy, an admin's suspend): the next pass.
                    guard try await fleet.isUnchanged(site, in: transaction) else { throw NothingChanged() }
                    _ = try await fleet.enqueue(task, for: site, event: event, now: now, in: transaction)
                    try await transaction.record(AuditEntry(
                        time: now, actor: Self.actor, organizationID: organization?.description,
                        tenantID: site.tenantID.description, action: suspend ? "site.suspend" : "site.resume",
                        target: "site:\(site.id)",
                        details: ["reason": SuspensionReason.billing.rawValue, "task": task.id.description]))
                }
                queued += 1
                await connections?.wake(agent)
            } catch is NothingChanged {
                continue
            } catch let error as CHOMError where error.code == .conflict {
                continue
            }
        }
        return queued
    }
}
