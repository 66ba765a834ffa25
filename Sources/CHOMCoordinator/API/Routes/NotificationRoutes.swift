import CHOMAPI
import CHOMCore
import CHOMStore
import Crypto
import Foundation
import Hummingbird

/// An organization's notification channels (email addresses and signed webhooks besides the
/// owners' email) and its outbox. Admins and owners of the whole organization only: a channel
/// gets every tenant's news, so an admin limited to some tenants may not read or change them.
extension AdminAPI {
    func addNotificationRoutes(_ routes: RouteTable) {
        routes.on(.get, "/v1/organizations/:org/notification-channels", .notificationChannelsList) { _, context, caller in
            let organization = try await wholeOrganization(context.parameters.get("org"), caller)
            let channels = try await store.notificationChannels.list(organization: organization.id)
            return try StrictJSON.response(ListResponse(items: channels.map(\.api), nextCursor: nil))
        }
        routes.on(.post, "/v1/organizations/:org/notification-channels", .notificationChannelCreate) { request, context, caller in
            let organization = try await wholeOrganization(context.parameters.get("org"), caller)
            let body = try await StrictJSON.decode(
                CreateNotificationChannelRequest.self, allowed: CreateNotificationChannelRequest.fields, from: request)
            let accepted = try NotificationChannelPolicy(
                addresses: webhookAddresses, webhooksEnabled: configuration.notifications.webhooks.enabled
            ).check(body)
            let id = UUID()
            var secret: String?
            var sealed: String?
            var shown = accepted.target
            if accepted.kind == .webhook {
                // The URL is sealed with the signing secret (a URL's path often is a credential);
                // only its scheme and host are stored in clear, listed and audited.
                let bytes = SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }
                let webhook = WebhookDelivery.Sealed(url: accepted.target, secret: "chomwh_" + Page.encodeBytes(bytes))
                secret = webhook.secret
                sealed = webhook.seal(with: identity.secretBox, channel: id)
                shown = WebhookAddressPolicy.shown(accepted.target)
            }
            let channel = NotificationChannelRecord(
                id: id, organizationID: organization.id, kind: accepted.kind, target: shown, secretSealed: sealed,
                events: accepted.events, description: accepted.description,
                createdBy: try caller.signedIn.user.id, createdAt: caller.now)
            try await write(caller) { transaction in
                try await store.notificationChannels.create(channel, in: transaction)
                try await transaction.record(caller.audit(
                    "notification.channel.create", target: "notification-channel:\(id.uuidString.lowercased())",
                    organization: organization.id,
                    details: [
                        "kind": accepted.kind.rawValue, "target": shown,
                        "events": accepted.events.joined(separator: " "),
                    ]))
            }
            return try StrictJSON.response(
                CreatedNotificationChannelResponse(channel: channel.api, secret: secret), status: .created)
        }
        routes.on(.delete, "/v1/organizations/:org/notification-channels/:channel", .notificationChannelDelete) { _, context, caller in
            let organization = try await wholeOrganization(context.parameters.get("org"), caller)
            let id = try channelID(context.parameters.get("channel"))
            try await write(caller) { transaction in
                guard try await store.notificationChannels.remove(id, organization: organization.id, now: caller.now, in: transaction)
                else { throw CHOMError(.notFound, "no notification channel \(id.uuidString.lowercased())") }
                try await transaction.record(caller.audit(
                    "notification.channel.remove", target: "notification-channel:\(id.uuidString.lowercased())",
                    organization: organization.id))
            }
            return Response(status: .noContent)
        }
        routes.on(.post, "/v1/organizations/:org/notification-channels/:channel/test", .notificationChannelTest) { _, context, caller in
            let organization = try await wholeOrganization(context.parameters.get("org"), caller)
            let id = try channelID(context.parameters.get("channel"))
            guard try await store.notificationChannels.get(id, organization: organization.id) != nil else {
                throw CHOMError(.notFound, "no notification channel \(id.uuidString.lowercased())")
            }
            // One test per channel a minute: a test is not a way to flood a receiver or a mailbox.
            if let last = try await store.notifications.list(organization: organization.id, limit: 100)
                .first(where: { $0.channelID == id && $0.event == NotificationEvent.channelTest.rawValue }),
                caller.now.timeIntervalSince(last.createdAt) < 60
            {
                throw CHOMError(.conflict, "a test message went to this channel less than a minute ago")
            }
            let content = NotificationContent(
                event: .channelTest, subject: "[CHOM] Test notification",
                body: "This is a test of a notification channel of \(organization.name).\n",
                data: ["channel_id": id.uuidString.lowercased()])
            let queued = try await write(caller) { transaction in
                guard let queued = try await store.notifications.enqueue(
                    content, through: id, of: organization.id, now: caller.now, in: transaction)
                else { throw CHOMError(.notFound, "no notification channel \(id.uuidString.lowercased())") }
                try await transaction.record(caller.audit(
                    "notification.channel.test", target: "notification-channel:\(id.uuidString.lowercased())",
                    organization: organization.id))
                return queued
            }
            return try StrictJSON.response(
                NotificationTestResponse(notificationId: queued.uuidString.lowercased()), status: .accepted)
        }
        routes.on(.get, "/v1/organizations/:org/notifications", .notificationsList) { request, context, caller in
            let organization = try await wholeOrganization(context.parameters.get("org"), caller)
            let limit = try Page(request).limit
            var items: [NotificationResponse] = []
            let isOperator = try caller.signedIn.isOperator
            for record in try await store.notifications.list(organization: organization.id, limit: limit) {
                // The mail relay's answers name the hosting company's machines: operators only.
                let last = record.channel == "email" && !isOperator
                    ? nil : try await store.notifications.attempts(of: record.id).last
                items.append(record.api(lastDetail: last?.detail))
            }
            return try StrictJSON.response(ListResponse(items: items, nextCursor: nil))
        }
    }

    /// The organization, for an admin or owner whose membership is not limited to some tenants.
    private func wholeOrganization(_ parameter: String?, _ caller: Caller) async throws -> OrganizationRecord {
        let organization = try await organization(parameter, caller, minimum: .admin)
        let principal = try caller.signedIn
        if !principal.isOperator,
            principal.memberships.first(where: { $0.organizationID == organization.id })?.tenantIDs.isEmpty == false
        {
            throw CHOMError(
                .forbidden,
                "your membership is limited to some tenants: notification channels carry every tenant's events")
        }
        return organization
    }

    var webhookAddresses: WebhookAddressPolicy {
        WebhookAddressPolicy(
            allowPrivateAddresses: configuration.notifications.webhooks.allowPrivateAddresses,
            allowPlainHTTP: configuration.notifications.webhooks.allowPlainHTTP)
    }

    private func channelID(_ value: String?) throws -> UUID {
        guard let value, let id = UUID(uuidString: value) else {
            throw CHOMError(.invalidInput, "'\(String((value ?? "").prefix(60)))' is not a notification channel id")
        }
        return id
    }
}

extension NotificationChannelRecord {
    var api: NotificationChannelResponse {
        NotificationChannelResponse(
            id: id.uuidString.lowercased(), organizationId: organizationID.description, kind: kind.rawValue, target: target,
            events: events, description: description, createdBy: createdBy?.description, createdAt: createdAt)
    }
}

extension NotificationRecord {
    func api(lastDetail: String?) -> NotificationResponse {
        NotificationResponse(
            id: id.uuidString.lowercased(), channel: channel, channelId: channelID?.uuidString.lowercased(),
            recipient: recipient, event: event, subject: subject, status: status.rawValue, attempts: attempts,
            createdAt: createdAt, nextAttemptAt: status == .pending ? nextAttemptAt : nil, deliveredAt: deliveredAt,
            lastDetail: lastDetail)
    }
}
