import CHOMAudit
package import CHOMCore
package import CHOMStore
package import Foundation
package import Logging

/// The end of a subscription's period, as a pure rule over `SubscriptionLifecycle`: the period's
/// invoice is closed, the next period is the next calendar month on the plan set for it (a change
/// planned for the period's end takes effect), a trial that has ended by then ends, and a
/// cancellation at period end takes effect.
enum PeriodEnd {
    static func advance(_ subscription: SubscriptionRecord, now: Date) -> (SubscriptionRecord, [SubscriptionAction]) {
        var lifecycle = SubscriptionLifecycle(
            status: subscription.status, graceEndsAt: subscription.graceEndsAt,
            cancelAtPeriodEnd: subscription.cancelAtPeriodEnd, grace: 0)
        var actions = (try? lifecycle.handle(.periodEnded(subscription.period)).get()) ?? []
        var next = subscription
        next.period = BillingCalendar.next(after: subscription.period)
        if let pending = subscription.pendingPlanCode { next.planCode = pending }
        next.pendingPlanCode = nil
        next.periodPlanCode = next.planCode
        if lifecycle.status == .trialing, let ends = subscription.trialEndsAt, ends <= next.period.start {
            actions += (try? lifecycle.handle(.trialEnded).get()) ?? []
        }
        next.status = lifecycle.status
        next.graceEndsAt = lifecycle.graceEndsAt
        next.cancelAtPeriodEnd = lifecycle.cancelAtPeriodEnd
        next.updatedAt = now
        return (next, actions)
    }
}

/// Closes ended periods: for each, in one transaction, the invoice (its number taken from the
/// issuer's gapless sequence, its lines from `BillingStatement`) and the subscription's next period.
/// A crash anywhere rolls all of it back, and the next pass closes the period again: there is
/// exactly one invoice per organization and period (also a unique key), and no number is skipped.
package struct BillingClose: Sendable {
    let store: Store
    let quotas: BillingQuotas
    let issuer: String
    let logger: Logger
    /// Organizations closed at once by `tick`. The issuer's counter is taken last in each close's
    /// transaction, so concurrent closes wait on it only for their final statements.
    var concurrency = 4
    /// How long after a period's end it is closed: the agents send an hour's usage once it has
    /// ended, so the last hour of the month (and an agent that reconnects late) arrive after it.
    var delay: TimeInterval = 0
    /// Runs after the lines are written and before the commit: tests throw here to crash a close halfway.
    var afterLines: (@Sendable (OrganizationID) async throws -> Void)? = nil

    package init(
        store: Store, quotas: BillingQuotas, issuer: String, logger: Logger, concurrency: Int = 4, delay: TimeInterval = 0
    ) {
        self.store = store
        self.quotas = quotas
        self.issuer = issuer
        self.logger = logger
        self.concurrency = max(1, concurrency)
        self.delay = max(0, delay)
    }

    static let actor = "system:billing"

    /// One pass as the leader of `epoch` (nil: unchecked): closes every ended period of every due
    /// organization, oldest first. Returns the invoices made.
    @discardableResult
    package func tick(now: Date, epoch: Int64? = nil, batch: Int = 500) async throws -> [InvoiceRecord] {
        var made: [InvoiceRecord] = []
        while true {
            let due = try await store.invoices.due(now: now.addingTimeInterval(-delay), limit: batch)
            var closed = 0
            try await withThrowingTaskGroup(of: (invoices: [InvoiceRecord], closed: Bool).self) { group in
                var next = due.makeIterator()
                func start() {
                    guard let organization = next.next() else { return }
                    group.addTask {
                        do {
                            return (try await close(organization, now: now, epoch: epoch), true)
                        } catch is CancellationError {
                            throw CancellationError()
                        } catch {
                            // One organization's failure (its invoice cannot be computed, a lost
                            // epoch) defers it alone; the others close.
                            logger.warning("period close deferred", metadata: [
                                "chom.organization": "\(organization)", LogKey.error: "\(String(reflecting: error))",
                            ])
                            return ([], false)
                        }
                    }
                }
                for _ in 0..<concurrency { start() }
                while let result = try await group.next() {
                    made += result.invoices
                    if result.closed { closed += 1 }
                    start()
                }
            }
            if due.count < batch || closed == 0 { return made.sorted { ($0.issuer, $0.number) < ($1.issuer, $1.number) } }
        }
    }

    /// Closes every period of `organization` that has ended by `now`.
    package func close(_ organization: OrganizationID, now: Date, epoch: Int64? = nil) async throws -> [InvoiceRecord] {
        var made: [InvoiceRecord] = []
        while let closed = try await closeOne(organization, now: now, epoch: epoch) {
            if let invoice = closed.invoice { made.append(invoice) }
        }
        return made
    }

    private struct NotDue: Error {}

    /// A period closed: with its new invoice, or none when one was already written for it.
    private struct Closed: Sendable { var invoice: InvoiceRecord? }

    private func closeOne(_ organization: OrganizationID, now: Date, epoch: Int64?) async throws -> Closed? {
        do {
            return try await store.write(now: now) { transaction in
                if let epoch { try await store.leadership.checkEpoch(epoch, in: transaction) }
                let (subscription, plan) = try await quotas.subscription(organization, now: now, in: transaction)
                guard subscription.status != .canceled, subscription.period.end <= now.addingTimeInterval(-delay) else {
                    throw NotDue()
                }
                let periodPlan = try await store.billing.plan(subscription.periodPlanCode, in: transaction) ?? plan
                let usage = try await store.billing.usage(organization, period: subscription.period, in: transaction)
                let adjustments = try await store.billing.adjustments(
                    organization, period: subscription.period, in: transaction)
                let lines: [InvoiceLine]
                do {
                    lines = try BillingStatement.lines(
                        subscription: subscription, periodPlan: periodPlan, plan: plan, usage: usage,
                        adjustments: adjustments)
                } catch {
                    throw CHOMError(.conflict, "the invoice of \(organization) cannot be computed: \(error)")
                }
                let (next, actions) = PeriodEnd.advance(subscription, now: now)
                try await store.billing.save(next, in: transaction)
                var details = ["plan": next.planCode, "period_start": next.period.start.formatted(.iso8601)]
                for case .audit(let action, let from, let to) in actions {
                    details["transition"] = "\(action): \(from.rawValue) -> \(to.rawValue)"
                }
                try await transaction.record(AuditEntry(
                    time: now, actor: Self.actor, organizationID: organization.description,
                    action: "billing.period.advance", target: "organization:\(organization)", details: details))
                var invoice: InvoiceRecord?
                if try await store.invoices.invoice(
                    organization: organization, periodStart: subscription.period.start, in: transaction) == nil
                {
                    // Last: the issuer's counter stays locked from here to the commit.
                    let number = try await store.invoices.takeNumber(issuer: issuer, .invoice, in: transaction)
                    let made = InvoiceRecord(
                        organizationID: organization, issuer: issuer, number: number, period: subscription.period,
                        planCode: plan.code, currency: plan.plan.monthlyPrice.currency,
                        totalMinor: BillingStatement.total(lines), finalizedAt: now, lines: lines)
                    try await store.invoices.insert(made, in: transaction)
                    try await afterLines?(organization)
                    try await transaction.record(AuditEntry(
                        time: now, actor: Self.actor, organizationID: organization.description,
                        action: "billing.invoice.finalize", target: "invoice:\(made.id)",
                        details: [
                            "number": "\(made.number)", "issuer": issuer, "total_minor": "\(made.totalMinor)",
                            "currency": made.currency, "period_start": made.period.start.formatted(.iso8601),
                        ]))
                    invoice = made
                }
                return Closed(invoice: invoice)
            }
        } catch is NotDue {
            return nil
        }
    }
}
