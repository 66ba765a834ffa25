import CHOMCore
import Foundation
import Testing

@Suite("Subscription lifecycle: dunning as a value, every status × event")
struct SubscriptionLifecycleTests {
    static let grace: TimeInterval = 3 * 86_400
    static let failedAt = Date(timeIntervalSince1970: 1_800_000_000)
    static let period = DateInterval(start: Date(timeIntervalSince1970: 1_797_000_000), duration: 30 * 86_400)

    static func lifecycle(_ status: SubscriptionStatus, cancelAtPeriodEnd: Bool = false) -> SubscriptionLifecycle {
        SubscriptionLifecycle(
            status: status, graceEndsAt: status == .pastDue ? failedAt.addingTimeInterval(grace) : nil,
            cancelAtPeriodEnd: cancelAtPeriodEnd, grace: grace)
    }

    static let events: [SubscriptionEvent] = [
        .trialEnded, .paymentFailed(at: failedAt), .paymentSucceeded,
        .graceExpired(now: failedAt.addingTimeInterval(grace - 1)), .graceExpired(now: failedAt.addingTimeInterval(grace)),
        .periodEnded(period), .cancel(atPeriodEnd: true), .cancel(atPeriodEnd: false),
    ]

    @Test("a failed payment makes an active subscription past due, with the grace counted from the failure")
    func failedPayment() throws {
        var subscription = Self.lifecycle(.active)
        let actions = try subscription.handle(.paymentFailed(at: Self.failedAt)).get()
        let ends = Self.failedAt.addingTimeInterval(Self.grace)
        #expect(subscription.status == .pastDue)
        #expect(subscription.graceEndsAt == ends)
        #expect(actions == [.audit(action: "past_due", from: .active, to: .pastDue), .notifyOwners(.paymentFailed(graceEndsAt: ends))])
        // A second failure does not extend the grace.
        #expect(try subscription.handle(.paymentFailed(at: Self.failedAt.addingTimeInterval(86_400))).get() == [])
        #expect(subscription.graceEndsAt == ends)
    }

    @Test("the grace's expiry suspends every site, but not a second early")
    func graceExpiry() throws {
        var subscription = Self.lifecycle(.pastDue)
        let ends = try #require(subscription.graceEndsAt)
        #expect(try subscription.handle(.graceExpired(now: ends.addingTimeInterval(-1))).get() == [])
        #expect(subscription.status == .pastDue)
        let actions = try subscription.handle(.graceExpired(now: ends)).get()
        #expect(subscription.status == .suspended)
        #expect(subscription.graceEndsAt == nil)
        #expect(actions == [
            .audit(action: "suspended", from: .pastDue, to: .suspended), .notifyOwners(.suspended), .suspendSites,
        ])
    }

    @Test("a past-due subscription without a grace's end is suspended at the next expiry check")
    func pastDueWithoutGrace() throws {
        var subscription = SubscriptionLifecycle(status: .pastDue, grace: Self.grace)
        let actions = try subscription.handle(.graceExpired(now: Self.failedAt)).get()
        #expect(subscription.status == .suspended)
        #expect(actions.contains(.suspendSites))
    }

    @Test("a payment makes a suspended subscription active and lifts only the billing reason")
    func paymentLifts() throws {
        var subscription = Self.lifecycle(.suspended)
        let actions = try subscription.handle(.paymentSucceeded).get()
        #expect(subscription.status == .active)
        #expect(actions == [
            .audit(action: "reactivated", from: .suspended, to: .active), .notifyOwners(.reactivated), .liftSiteSuspension,
        ])
        var pastDue = Self.lifecycle(.pastDue)
        #expect(try pastDue.handle(.paymentSucceeded).get() == [
            .audit(action: "reactivated", from: .pastDue, to: .active), .notifyOwners(.reactivated),
        ])
        #expect(pastDue.graceEndsAt == nil)
        // A stale expiry after the payment does nothing.
        #expect(try pastDue.handle(.graceExpired(now: Self.failedAt.addingTimeInterval(Self.grace * 2))).get() == [])
        #expect(pastDue.status == .active)
    }

    @Test("a cancellation at period end waits for the period's close; canceled is final")
    func cancellation() throws {
        var subscription = Self.lifecycle(.active)
        #expect(try subscription.handle(.cancel(atPeriodEnd: true)).get() == [.audit(action: "cancel_scheduled", from: .active, to: .active)])
        #expect(try subscription.handle(.cancel(atPeriodEnd: true)).get() == [])
        #expect(subscription.status == .active)
        let actions = try subscription.handle(.periodEnded(Self.period)).get()
        #expect(actions == [
            .closeInvoice(Self.period), .audit(action: "canceled", from: .active, to: .canceled), .notifyOwners(.canceled),
        ])
        #expect(subscription.status == .canceled)
        #expect(try subscription.handle(.periodEnded(Self.period)).get() == [])
        #expect(try subscription.handle(.paymentSucceeded).get() == [])
        #expect(subscription.status == .canceled)
        let refusal = try #require(subscription.handle(.trialEnded).failure)
        #expect(refusal.message == "subscription is canceled; it has no trial")
    }

    @Test(
        "every status × event: a refusal changes nothing; sites are suspended exactly on entering suspended and lifted exactly on leaving it for active; every change of status is audited and notified once",
        arguments: SubscriptionStatus.allCases)
    func everyStatusAndEvent(status: SubscriptionStatus) throws {
        for cancelAtPeriodEnd in [false, true] where !(cancelAtPeriodEnd && status == .canceled) {
            for event in Self.events {
                let before = Self.lifecycle(status, cancelAtPeriodEnd: cancelAtPeriodEnd)
                var after = before
                switch after.handle(event) {
                case .failure(let refusal):
                    #expect(after == before, "\(status) × \(event)")
                    #expect(refusal.status == status)
                    #expect(!refusal.message.isEmpty)
                    // The only refusal: a trial end outside a trial.
                    #expect(event == .trialEnded && status != .trialing, "\(status) × \(event): \(refusal)")
                case .success(let actions):
                    let changed = after.status != before.status
                    let audits = actions.compactMap { action -> (SubscriptionStatus, SubscriptionStatus)? in
                        if case .audit(_, let from, let to) = action { return (from, to) }
                        return nil
                    }
                    let notices = actions.filter { if case .notifyOwners = $0 { true } else { false } }
                    if changed {
                        #expect(audits.count == 1, "\(status) × \(event)")
                        #expect(audits.first?.0 == before.status && audits.first?.1 == after.status, "\(status) × \(event)")
                        #expect(notices.count == 1, "\(status) × \(event)")
                    } else {
                        #expect(notices.isEmpty, "\(status) × \(event)")
                    }
                    #expect(actions.contains(.suspendSites) == (changed && after.status == .suspended), "\(status) × \(event)")
                    #expect(
                        actions.contains(.liftSiteSuspension) == (before.status == .suspended && after.status == .active),
                        "\(status) × \(event)")
                    #expect((after.graceEndsAt != nil) == (after.status == .pastDue), "\(status) × \(event)")
                    if case .periodEnded(let period) = event, status != .canceled {
                        #expect(actions.first == .closeInvoice(period), "\(status) × \(event)")
                    } else {
                        #expect(!actions.contains { if case .closeInvoice = $0 { true } else { false } }, "\(status) × \(event)")
                    }
                    if status == .canceled { #expect(actions.isEmpty && after == before, "\(status) × \(event)") }
                }
            }
        }
    }
}

extension Result {
    var failure: Failure? {
        if case .failure(let failure) = self { return failure }
        return nil
    }
}
