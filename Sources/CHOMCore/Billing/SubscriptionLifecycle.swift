package import Foundation

/// Where an organization's subscription stands (the issue "Billing": trialing, active, past_due,
/// suspended, canceled).
package enum SubscriptionStatus: String, Sendable, Codable, CaseIterable {
    case trialing
    case active
    case pastDue = "past_due"
    case suspended
    case canceled
}

/// What can happen to a subscription. Payment events are facts from the payment processor (or an
/// operator); the timers (`trialEnded`, `graceExpired`, `periodEnded`) come from the leader's
/// billing pass with the time it ran at.
package enum SubscriptionEvent: Sendable, Equatable {
    /// The trial's last day passed.
    case trialEnded
    /// A payment for the organization failed, at `at`.
    case paymentFailed(at: Date)
    /// A payment for the organization succeeded.
    case paymentSucceeded
    /// The leader's pass at `now`, for a past-due subscription: suspends it once the grace is over.
    case graceExpired(now: Date)
    /// The current period ended: its invoice is closed.
    case periodEnded(DateInterval)
    /// The owner or an operator cancels: now, or when the current period ends.
    case cancel(atPeriodEnd: Bool)

    package var noun: String {
        switch self {
        case .trialEnded: "trial end"
        case .paymentFailed: "failed payment"
        case .paymentSucceeded: "payment"
        case .graceExpired: "grace expiry"
        case .periodEnded: "period end"
        case .cancel: "cancellation"
        }
    }
}

/// What an organization's owners are told (by the notifications outbox).
package enum BillingNotice: Sendable, Equatable {
    case trialEnded
    case paymentFailed(graceEndsAt: Date)
    case suspended
    case reactivated
    case canceled
}

/// What the I/O side carries out, in the transaction that stores the new state.
package enum SubscriptionAction: Sendable, Equatable {
    /// An audit entry, `billing.<action>`, with the old and new status.
    case audit(action: String, from: SubscriptionStatus, to: SubscriptionStatus)
    /// An email to the organization's owners, through the outbox.
    case notifyOwners(BillingNotice)
    /// Adds the "billing" suspension reason to every site of the organization.
    case suspendSites
    /// Removes the "billing" reason from every site of the organization; a site suspended for
    /// another reason (an administrator's) stays suspended.
    case liftSiteSuspension
    /// Closes the period's invoice (idempotent: the close is keyed by organization and period).
    case closeInvoice(DateInterval)
}

/// A subscription's lifecycle as a value, like `SiteLifecycle`: `handle` is the only way its status
/// changes, and it returns what to do; no I/O here.
///
/// The dunning rules:
/// - A failed payment makes a trialing or active subscription past due, with a grace of
///   `grace` seconds from the failure; further failures while past due or suspended change nothing
///   (the grace is not extended).
/// - The grace's expiry suspends a past-due subscription, and with it every site of the
///   organization (reason "billing"). An expiry seen early (before the grace's end) or for a
///   subscription that is no longer past due changes nothing: timers are not trusted to be exact.
/// - A successful payment makes a past-due or suspended subscription active again and lifts the
///   billing reason from its sites.
/// - A period's end closes its invoice in every status but canceled; a cancellation at period end
///   takes effect then.
/// - Canceled is final: every event but a trial end (refused) is taken and changes nothing, with no
///   action (late payment facts and timers of a subscription that has ended). A canceled
///   subscription's sites keep any billing suspension they had.
package struct SubscriptionLifecycle: Sendable, Equatable {
    package var status: SubscriptionStatus
    /// When a past-due subscription is suspended; nil in every other status.
    package var graceEndsAt: Date?
    /// Whether the subscription ends when its current period does.
    package var cancelAtPeriodEnd: Bool
    /// The grace between a failed payment and the suspension (configuration).
    package let grace: TimeInterval

    package init(
        status: SubscriptionStatus = .trialing, graceEndsAt: Date? = nil, cancelAtPeriodEnd: Bool = false,
        grace: TimeInterval
    ) {
        self.status = status
        self.graceEndsAt = graceEndsAt
        self.cancelAtPeriodEnd = cancelAtPeriodEnd
        self.grace = grace
    }

    /// Applies `event`: on success the lifecycle holds the next state and the actions say what to
    /// do (empty: nothing to do); on refusal nothing changed and the refusal says why.
    package mutating func handle(_ event: SubscriptionEvent) -> Result<[SubscriptionAction], SubscriptionTransitionRefusal> {
        var next = self
        let outcome = next.apply(event)
        if case .success = outcome { self = next }
        return outcome
    }

    private mutating func apply(_ event: SubscriptionEvent) -> Result<[SubscriptionAction], SubscriptionTransitionRefusal> {
        switch (status, event) {
        case (.canceled, .cancel), (.canceled, .paymentSucceeded), (.canceled, .paymentFailed),
             (.canceled, .graceExpired), (.canceled, .periodEnded):
            // Facts about a subscription that has ended: nothing to do.
            return .success([])
        case (.canceled, .trialEnded):
            return refuse(event, "subscription is canceled; it has no trial")

        case (.trialing, .trialEnded):
            return .success(move(to: .active, audit: "trial_ended", notice: .trialEnded))
        case (_, .trialEnded):
            return refuse(event, "subscription is \(status.rawValue); its trial is over")

        case (.trialing, .paymentFailed(let at)), (.active, .paymentFailed(let at)):
            let ends = at.addingTimeInterval(grace)
            let actions = move(to: .pastDue, audit: "past_due", notice: .paymentFailed(graceEndsAt: ends))
            graceEndsAt = ends
            return .success(actions)
        case (.pastDue, .paymentFailed), (.suspended, .paymentFailed):
            return .success([])

        case (.pastDue, .graceExpired(let now)):
            // A past-due subscription without a grace's end (not one this type makes) has none left.
            if let ends = graceEndsAt, now < ends { return .success([]) }
            return .success(move(to: .suspended, audit: "suspended", notice: .suspended) + [.suspendSites])
        case (_, .graceExpired):
            return .success([])

        case (.pastDue, .paymentSucceeded):
            return .success(move(to: .active, audit: "reactivated", notice: .reactivated))
        case (.suspended, .paymentSucceeded):
            return .success(move(to: .active, audit: "reactivated", notice: .reactivated) + [.liftSiteSuspension])
        case (.trialing, .paymentSucceeded), (.active, .paymentSucceeded):
            return .success([])

        case (_, .periodEnded(let period)):
            guard cancelAtPeriodEnd else { return .success([.closeInvoice(period)]) }
            return .success([.closeInvoice(period)] + move(to: .canceled, audit: "canceled", notice: .canceled))

        case (_, .cancel(let atPeriodEnd)):
            if atPeriodEnd {
                guard !cancelAtPeriodEnd else { return .success([]) }
                cancelAtPeriodEnd = true
                return .success([.audit(action: "cancel_scheduled", from: status, to: status)])
            }
            return .success(move(to: .canceled, audit: "canceled", notice: .canceled))
        }
    }

    /// A change of status: the audit entry and the owners' notice that go with every one.
    private mutating func move(to next: SubscriptionStatus, audit action: String, notice: BillingNotice) -> [SubscriptionAction] {
        let from = status
        status = next
        if next != .pastDue { graceEndsAt = nil }
        if next == .canceled { cancelAtPeriodEnd = false }
        return [.audit(action: action, from: from, to: next), .notifyOwners(notice)]
    }

    private func refuse(_ event: SubscriptionEvent, _ message: String) -> Result<[SubscriptionAction], SubscriptionTransitionRefusal> {
        .failure(SubscriptionTransitionRefusal(status: status, event: event, message: message))
    }
}

/// An event the subscription's status does not take. `message` is for the caller (a 409's detail).
package struct SubscriptionTransitionRefusal: Error, Sendable, Equatable, CustomStringConvertible {
    package var status: SubscriptionStatus
    package var event: SubscriptionEvent
    package var message: String

    package var description: String { message }
}
