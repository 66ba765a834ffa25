package import Foundation

// An organization's notification channels and the messages sent to it
// (`/v1/organizations/{org}/notification-channels`, `/v1/organizations/{org}/notifications`).

package struct NotificationChannelResponse: Codable, Sendable, Equatable {
    package var id: String
    package var organizationId: String
    /// "email" or "webhook".
    package var kind: String
    /// The address (email) or the URL (webhook).
    package var target: String
    /// Subscribed events; empty: every event.
    package var events: [String]
    package var description: String
    /// The user who added it.
    package var createdBy: String?
    package var createdAt: Date
    package init(
        id: String, organizationId: String, kind: String, target: String, events: [String], description: String,
        createdBy: String?, createdAt: Date
    ) {
        self.id = id
        self.organizationId = organizationId
        self.kind = kind
        self.target = target
        self.events = events
        self.description = description
        self.createdBy = createdBy
        self.createdAt = createdAt
    }
}

package struct CreateNotificationChannelRequest: Codable, Sendable, Equatable {
    package var kind: String
    /// A webhook's URL.
    package var url: String?
    /// An email channel's address.
    package var email: String?
    /// Absent or empty: every event.
    package var events: [String]?
    package var description: String?
    package static let fields: Set<String> = ["kind", "url", "email", "events", "description"]
    package init(kind: String, url: String? = nil, email: String? = nil, events: [String]? = nil, description: String? = nil) {
        self.kind = kind
        self.url = url
        self.email = email
        self.events = events
        self.description = description
    }
}

/// Returned once, at creation: the only time a webhook's signing secret is shown.
package struct CreatedNotificationChannelResponse: Codable, Sendable, Equatable {
    package var channel: NotificationChannelResponse
    /// The webhook's signing secret (`CHOM-Signature`); absent for email.
    package var secret: String?
    package init(channel: NotificationChannelResponse, secret: String?) {
        self.channel = channel
        self.secret = secret
    }
}

/// `POST …/notification-channels/{channel}/test`: the test message was queued.
package struct NotificationTestResponse: Codable, Sendable, Equatable {
    package var notificationId: String
    package init(notificationId: String) { self.notificationId = notificationId }
}

/// One message of the organization's outbox, with its latest attempt.
package struct NotificationResponse: Codable, Sendable, Equatable {
    package var id: String
    /// "email" or "webhook".
    package var channel: String
    package var channelId: String?
    package var recipient: String
    package var event: String
    package var subject: String
    /// "pending", "delivered" or "failed" (given up).
    package var status: String
    package var attempts: Int
    package var createdAt: Date
    package var nextAttemptAt: Date?
    package var deliveredAt: Date?
    /// What the latest attempt's server answered, or its error.
    package var lastDetail: String?
    package init(
        id: String, channel: String, channelId: String?, recipient: String, event: String, subject: String,
        status: String, attempts: Int, createdAt: Date, nextAttemptAt: Date?, deliveredAt: Date?, lastDetail: String?
    ) {
        self.id = id
        self.channel = channel
        self.channelId = channelId
        self.recipient = recipient
        self.event = event
        self.subject = subject
        self.status = status
        self.attempts = attempts
        self.createdAt = createdAt
        self.nextAttemptAt = nextAttemptAt
        self.deliveredAt = deliveredAt
        self.lastDetail = lastDetail
    }
}
