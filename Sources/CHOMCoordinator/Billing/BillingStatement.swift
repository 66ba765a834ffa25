import CHOMCore
import CHOMStore
import Foundation

/// The lines of an organization's invoice for its current period, as a pure rule over the ledger:
/// - the base fee of the plan the period started on, for the part of the period after the trial's
///   end (a trial that ends mid-period leaves the rest of it charged; one that covers it, none);
/// - the period's plan changes, as proration lines;
/// - overage per meter against the allowance of the plan the period started on: a change made
///   during the period counts for overage from the next one, so no late switch (to a bigger plan
///   and back, or to one without overage prices) waives what the period used.
/// The projected invoice of `GET …/billing` and the period close use this one rule.
enum BillingStatement {
    static func lines(
        subscription: SubscriptionRecord, periodPlan: PlanRecord, plan: PlanRecord, usage: [Meter: Int64],
        adjustments: [BillingAdjustment]
    ) throws(BillingRuleError) -> [InvoiceLine] {
        let period = subscription.period
        let trialEnds = subscription.trialEndsAt.map { min(max($0, period.start), period.end) } ?? period.start
        let charged = DateInterval(start: trialEnds, end: period.end)
        var lines: [InvoiceLine] = []
        if charged.duration >= 1 {
            lines += try InvoiceCalculator.lines(plan: periodPlan.plan, period: charged, usage: [:])
        }
        for adjustment in adjustments {
            guard adjustment.amount.currency == periodPlan.plan.monthlyPrice.currency else {
                throw .currencyMismatch(periodPlan.plan.monthlyPrice.currency, adjustment.amount.currency)
            }
            lines.append(InvoiceLine(
                kind: .proration, description: adjustment.description, quantity: adjustment.seconds,
                amount: adjustment.amount))
        }
        lines += try InvoiceCalculator.lines(plan: periodPlan.plan, period: period, usage: usage, inTrial: true)
        return lines
    }

    /// The lines' total, saturating.
    static func total(_ lines: [InvoiceLine]) -> Int64 {
        lines.reduce(Int64(0)) { sum, line in
            let (next, overflow) = sum.addingReportingOverflow(line.amount.minor)
            return overflow ? (line.amount.minor < 0 ? .min : .max) : next
        }
    }
}

/// A plan change asked for by an owner or operator, as a pure rule: what the subscription becomes
/// and the proration it adds.
enum PlanChange {
    enum Effective: String, Sendable { case now, periodEnd = "period_end" }

    static func apply(
        to subscription: SubscriptionRecord, from current: PlanRecord, to target: PlanRecord, effective: Effective,
        now: Date
    ) throws -> (SubscriptionRecord, [BillingAdjustment]) {
        var next = subscription
        next.updatedAt = now
        switch subscription.status {
        case .canceled: throw CHOMError(.conflict, "the subscription is canceled")
        case .trialing, .active, .pastDue, .suspended: break
        }
        guard target.code != current.code else {
            guard subscription.pendingPlanCode != nil else {
                throw CHOMError(.conflict, "the organization is already on the plan \(target.code)")
            }
            // Back to the current plan: the change planned for the period's end is dropped.
            next.pendingPlanCode = nil
            return (next, [])
        }
        guard !target.archived else { throw CHOMError(.conflict, "the plan \(target.code) is archived and takes no new subscriptions") }
        guard target.plan.monthlyPrice.currency == current.plan.monthlyPrice.currency else {
            throw CHOMError(.conflict, BillingRuleError.currencyMismatch(
                current.plan.monthlyPrice.currency, target.plan.monthlyPrice.currency).description)
        }
        switch effective {
        case .periodEnd:
            next.pendingPlanCode = target.code
            return (next, [])
        case .now:
            next.planCode = target.code
            next.pendingPlanCode = nil
            // While trialing no base fee is charged, so there is nothing to prorate.
            guard subscription.status != .trialing else { return (next, []) }
            let lines: [ProrationLine]
            do {
                // The period's base fees (not the monthly prices): a period shorter or longer than
                // 720 hours is prorated from what its base line charges.
                lines = try Proration.planChange(
                    from: try InvoiceCalculator.baseFee(current.plan.monthlyPrice, period: subscription.period),
                    to: try InvoiceCalculator.baseFee(target.plan.monthlyPrice, period: subscription.period),
                    period: subscription.period, at: now)
            } catch {
                throw CHOMError(.conflict, error.description)
            }
            let adjustments = lines.map { line in
                BillingAdjustment(
                    kind: line.kind == .credit ? .prorationCredit : .prorationCharge,
                    description: line.kind == .credit
                        ? "unused time on plan \(current.code) (\(line.seconds) s)"
                        : "remaining time on plan \(target.code) (\(line.seconds) s)",
                    seconds: line.seconds, amount: line.amount, createdAt: now)
            }
            return (next, adjustments)
        }
    }
}
