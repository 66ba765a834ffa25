/// What CHOM notifies about: the names a channel subscribes to (`events`, empty for all) and the
/// `event` of every outbox message and webhook payload. One list, so that the API refuses a
/// misspelt subscription instead of silently never delivering it.
package enum NotificationEvent: String, Sendable, CaseIterable, Codable {
    case alertFiring = "alert.firing"
    case alertResolved = "alert.resolved"
    case deployFailed = "deploy.failed"
    case backupFailed = "backup.failed"
    case failoverDone = "failover.done"
    case migrationDone = "migration.done"
    case billingTrialEnded = "billing.trial_ended"
    case billingPaymentFailed = "billing.payment_failed"
    case billingSuspended = "billing.suspended"
    case billingReactivated = "billing.reactivated"
    case billingCanceled = "billing.canceled"
    /// Sent to one channel on request (`POST …/notification-channels/{id}/test`), never subscribed.
    case channelTest = "channel.test"

    /// The events a channel may subscribe to (every one but the test).
    package static var subscribable: [NotificationEvent] { allCases.filter { $0 != .channelTest } }
}

/// One thing to tell an organization: the text the email carries and the fields a webhook's
/// JSON carries besides it (`data`: site, tenant, task, …, never a secret).
package struct NotificationContent: Sendable, Equatable {
    package var event: NotificationEvent
    package var subject: String
    package var body: String
    package var data: [String: String]

    package init(event: NotificationEvent, subject: String, body: String, data: [String: String] = [:]) {
        self.event = event
        self.subject = subject
        self.body = body
        self.data = data
    }
}
