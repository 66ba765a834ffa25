import CHOMAPI
import CHOMCore
import CHOMStore
import Foundation

/// What makes a notification channel acceptable (pure): a kind of "email" or "webhook"; an email
/// address the SMTP client would send to, or a URL `WebhookAddressPolicy` admits; events from
/// `NotificationEvent.subscribable`, each once; a description of one line.
struct NotificationChannelPolicy: Sendable {
    let addresses: WebhookAddressPolicy
    var webhooksEnabled = true

    struct Accepted: Equatable {
        var kind: NotificationChannelRecord.Kind
        var target: String
        var events: [String]
        var description: String
    }

    func check(_ request: CreateNotificationChannelRequest) throws -> Accepted {
        guard let kind = NotificationChannelRecord.Kind(rawValue: request.kind) else {
            throw CHOMError(.invalidInput, "kind must be \"email\" or \"webhook\"")
        }
        let target: String
        switch kind {
        case .email:
            guard request.url == nil else { throw CHOMError(.invalidInput, "an email channel has an email, not a url") }
            guard let email = request.email?.trimmingCharacters(in: .whitespaces).lowercased(), !email.isEmpty else {
                throw CHOMError(.invalidInput, "an email channel needs email")
            }
            try EmailMessage.checkAddress(email, what: "email")
            target = email
        case .webhook:
            guard webhooksEnabled else {
                throw CHOMError(.invalidInput, "webhooks are turned off on this coordinator (notifications.webhooks.enabled)")
            }
            guard request.email == nil else { throw CHOMError(.invalidInput, "a webhook channel has a url, not an email") }
            guard let url = request.url, !url.isEmpty else { throw CHOMError(.invalidInput, "a webhook channel needs url") }
            target = try addresses.check(url: url).absoluteString
        }
        let events = request.events ?? []
        guard events.count <= NotificationEvent.subscribable.count, Set(events).count == events.count else {
            throw CHOMError(.invalidInput, "events lists each event once")
        }
        let known = Set(NotificationEvent.subscribable.map(\.rawValue))
        if let unknown = events.first(where: { !known.contains($0) }) {
            throw CHOMError(
                .invalidInput,
                "unknown event '\(String(unknown.prefix(60)))': one of \(NotificationEvent.subscribable.map(\.rawValue).joined(separator: ", "))")
        }
        let description = (request.description ?? "").trimmingCharacters(in: .whitespaces)
        guard description.count <= 200, !description.contains(where: { $0.isNewline }),
            !description.unicodeScalars.contains(where: { CharacterSet.controlCharacters.contains($0) })
        else { throw CHOMError(.invalidInput, "description is one line of at most 200 characters") }
        return Accepted(kind: kind, target: target, events: events, description: description)
    }
}
