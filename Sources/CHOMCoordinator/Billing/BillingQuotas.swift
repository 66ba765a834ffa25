package import CHOMCore
package import CHOMStore
package import Foundation

/// Quotas where the work starts (the issue "Billing"): the one place that reads an organization's
/// plan and usage for a quota and applies `QuotaPolicy`. Callers run it inside the transaction that
/// does the work; it locks the organization's subscription row, so concurrent creates at the limit
/// are counted one after another and exactly the limit gets through.
package struct BillingQuotas: Sendable {
    let store: Store
    let configuration: CoordinatorConfiguration.Billing

    package init(store: Store, configuration: CoordinatorConfiguration.Billing) {
        self.store = store
        self.configuration = configuration
    }

    /// The organization's subscription, locked, and its plan; an organization without one gets the
    /// default plan now.
    func subscription(_ organization: OrganizationID, now: Date, in transaction: AuditedTransaction) async throws
        -> (SubscriptionRecord, PlanRecord)
    {
        let fallback = try configuration.defaultPlan.record(now: now, what: "billing.defaultPlan")
        let defaultPlan = try await store.billing.plan(fallback.code, in: transaction) ?? fallback
        let subscription = try await store.billing.lockSubscription(
            organization, defaultPlan: defaultPlan, now: now, in: transaction)
        guard let plan = try await store.billing.plan(subscription.planCode, in: transaction) else {
            throw CHOMError(.integrity, "the subscription of \(organization) names a missing plan")
        }
        return (subscription, plan)
    }

    /// Refuses (QuotaExceeded, 403) when one more of `quota` would take the organization over its plan.
    func check(_ quota: Quota, organization: OrganizationID, now: Date, in transaction: AuditedTransaction) async throws {
        let (_, plan) = try await subscription(organization, now: now, in: transaction)
        let usage: Int64
        switch quota {
        case .sites: usage = try await store.billing.siteCount(organization, in: transaction)
        case .members: usage = try await store.billing.memberCount(organization, now: now, in: transaction)
        case .storage: usage = try await store.billing.storageBytes(organization, in: transaction)
        }
        try QuotaPolicy.check(quota, limit: plan.limit(quota), usage: usage, plan: plan.code)
    }

    /// A new site: within the plan's sites, and never for an organization whose subscription is
    /// suspended or canceled (its existing sites still move in migrations and failovers).
    func checkNewSite(organization: OrganizationID, now: Date, in transaction: AuditedTransaction) async throws {
        let (subscription, _) = try await subscription(organization, now: now, in: transaction)
        switch subscription.status {
        case .suspended, .canceled:
            throw CHOMError(.forbidden, "the organization's subscription is \(subscription.status.rawValue): no new site is placed for it")
        case .trialing, .active, .pastDue:
            try await check(.sites, organization: organization, now: now, in: transaction)
        }
    }
}
