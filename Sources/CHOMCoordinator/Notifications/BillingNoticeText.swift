import CHOMCore
import Foundation

/// The email an organization's owners get for each subscription transition (pure text; the
/// outbox sends it). Names are shown as data, on their own line, never interpreted.
enum BillingNoticeText {
    static func event(_ notice: BillingNotice) -> NotificationEvent {
        switch notice {
        case .trialEnded: .billingTrialEnded
        case .paymentFailed: .billingPaymentFailed
        case .suspended: .billingSuspended
        case .reactivated: .billingReactivated
        case .canceled: .billingCanceled
        }
    }

    /// (subject, body) for `organization` (its name, one line).
    static func message(_ notice: BillingNotice, organization: String) -> (subject: String, body: String) {
        let name = String(organization.unicodeScalars.filter { !CharacterSet.controlCharacters.contains($0) }.prefix(200)
            .map(Character.init))
        let subject: String
        var lines: [String]
        switch notice {
        case .trialEnded:
            subject = "Your trial has ended"
            lines = ["The trial of this organization has ended; its plan is now billed."]
        case .paymentFailed(let graceEndsAt):
            subject = "Payment failed: action needed"
            lines = [
                "A payment for this organization failed, and its subscription is past due.",
                "Unless it is paid by \(graceEndsAt.formatted(.iso8601)), every site of the organization will be suspended",
                "(visitors will see a maintenance page).",
            ]
        case .suspended:
            subject = "Sites suspended for an unpaid invoice"
            lines = [
                "The grace period after a failed payment has ended: every site of this organization is suspended.",
                "Pay the open invoice and the sites are served again.",
            ]
        case .reactivated:
            subject = "Payment received: subscription active"
            lines = ["A payment was received; the subscription is active and the sites are served again."]
        case .canceled:
            subject = "Subscription canceled"
            lines = ["The subscription of this organization is canceled; no new site can be created."]
        }
        lines.insert(contentsOf: ["Organization:", "  \(name)", ""], at: 0)
        lines.append(contentsOf: ["", "-- CHOM billing"])
        return ("[CHOM] \(subject)", lines.joined(separator: "\n") + "\n")
    }
}
