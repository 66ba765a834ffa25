import CHOMAudit
import CHOMCore
import CHOMStore
import Foundation
import Logging

/// At start-up: the configured default plan exists (an operator's later edits of it stay), and every
/// organization without a subscription gets one on it, each with its audit entry. Replicas starting
/// together are safe: the inserts skip what another made, and a start with nothing to do writes nothing.
enum BillingArrival {
    private struct NothingToDo: Error {}

    static func run(
        store: Store, configuration: CoordinatorConfiguration.Billing, now: Date, logger: Logger
    ) async throws {
        let configured = try configuration.defaultPlan.record(now: now, what: "billing.defaultPlan")
        try await store.billing.ensurePlan(configured)
        guard try await store.billing.anyUnsubscribed() else { return }
        let plan = try await store.billing.plan(configured.code) ?? configured
        do {
            let made = try await store.write(now: now) { transaction in
                let made = try await store.billing.subscribeMissing(plan: plan, now: now, in: transaction)
                guard !made.isEmpty else { throw NothingToDo() }
                for organization in made {
                    try await transaction.record(AuditEntry(
                        time: now, actor: "system", organizationID: organization.description,
                        action: "billing.subscription.create", target: "organization:\(organization)",
                        details: ["plan": plan.code, "reason": "default plan"]))
                }
                return made.count
            }
            logger.info("organizations subscribed to the default plan", metadata: [
                "chom.plan": "\(plan.code)", "chom.count": "\(made)",
            ])
        } catch is NothingToDo {}
    }
}
