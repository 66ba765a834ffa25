import ArgumentParser
import CHOMAPI
import CHOMCore
import Foundation

struct NotificationsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "notifications",
        abstract: "An organization's notification channels (email, signed webhooks) and the messages sent.",
        discussion: """
            Every event is emailed to the organization's owners. Channels add destinations: an \
            email address, or a webhook that CHOM POSTs JSON to, signed like Stripe's webhooks \
            (header CHOM-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">, keyed with \
            the secret shown once when the channel is added). Events: \
            \(NotificationsCommand.events). Admins and owners only.

            Example:
              chom notifications add-webhook --org acme https://hooks.acme.example/chom --event deploy.failed
              chom notifications add-email --org acme ops@acme.example
              chom notifications channels --org acme
              chom notifications test --org acme 3f2a
              chom notifications list --org acme
            """,
        subcommands: [Channels.self, AddWebhook.self, AddEmail.self, Remove.self, Test.self, List.self],
        aliases: ["notification"]
    )

    static let events = NotificationEvent.subscribable.map(\.rawValue).joined(separator: ", ")
}

/// An existing channel, as `remove` and `test` name it.
struct ChannelReference: ParsableArguments {
    @Option(help: ArgumentHelp("The organization (ID, ID prefix or name).", valueName: "org"))
    var org: String
    @Argument(help: "The channel's ID or a unique prefix of it.")
    var channel: String

    /// (organization id, channel id): the organization's one channel whose id starts with `channel`.
    func resolve(_ client: AdminClient) async throws -> (String, String) {
        let organization = try await client.resolveOrganization(org)
        let matches = try await client.notificationChannels(organizationID: organization)
            .filter { $0.id.hasPrefix(channel.lowercased()) }
        guard matches.count == 1, let only = matches.first else {
            throw ValidationError(matches.isEmpty ? "no notification channel \(channel)" : "\(channel) names more than one channel")
        }
        return (organization, only.id)
    }
}

/// What `add-webhook` and `add-email` share.
struct NewChannelOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The organization (ID, ID prefix or name).", valueName: "org"))
    var org: String
    @Option(
        name: .customLong("event"),
        help: ArgumentHelp("Only this event; repeatable (default: every event).", valueName: "event"))
    var events: [String] = []
    @Option(help: "A note for the list.")
    var description: String?
}

extension NotificationsCommand {
    struct Channels: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the organization's channels.", aliases: ["ls-channels"])

        @OptionGroup var global: GlobalOptions
        @Option(help: ArgumentHelp("The organization (ID, ID prefix or name).", valueName: "org"))
        var org: String

        func run() async throws {
            let client = try await global.client()
            let channels = try await client.notificationChannels(organizationID: client.resolveOrganization(org))
            if global.json { return try Console.json(ListResponse(items: channels)) }
            var table = Table(headers: ["ID", "KIND", "TARGET", "EVENTS", "DESCRIPTION", "ADDED", "BY"])
            for channel in channels {
                table.append([
                    Format.shortID(channel.id), channel.kind, channel.target,
                    channel.events.isEmpty ? "all" : channel.events.joined(separator: ","), channel.description,
                    Format.relative(channel.createdAt), Format.shortID(channel.createdBy),
                ])
            }
            Console.table(table)
            if channels.isEmpty { Console.error("chom: no channels: events go to the owners' email only") }
        }
    }

    struct AddWebhook: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add-webhook",
            abstract: "Add a webhook; its signing secret is printed once.",
            discussion: """
                The URL must be https:// and name a public address unless the coordinator allows \
                otherwise (notifications.webhooks). Only its scheme and host are listed afterwards. \
                A receiver checks CHOM-Signature with the secret, rejects timestamps older than a \
                few minutes, and dedupes on CHOM-Delivery (retries repeat it). Answer 2xx to \
                acknowledge; 410 Gone stops retries.
                """)

        @OptionGroup var global: GlobalOptions
        @OptionGroup var channel: NewChannelOptions
        @Argument(help: "The URL CHOM POSTs to.")
        var url: String

        func run() async throws {
            let client = try await global.client()
            let created = try await client.createNotificationChannel(
                organizationID: client.resolveOrganization(channel.org),
                CreateNotificationChannelRequest(
                    kind: "webhook", url: url, events: channel.events, description: channel.description))
            if global.json { return try Console.json(created) }
            Console.out("added webhook \(created.channel.id) (\(created.channel.target))")
            Console.out("signing secret (shown once): \(created.secret ?? "")")
        }
    }

    struct AddEmail: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add-email", abstract: "Add an email address that gets the organization's events.")

        @OptionGroup var global: GlobalOptions
        @OptionGroup var channel: NewChannelOptions
        @Argument(help: "The address.")
        var email: String

        func run() async throws {
            let client = try await global.client()
            let created = try await client.createNotificationChannel(
                organizationID: client.resolveOrganization(channel.org),
                CreateNotificationChannelRequest(
                    kind: "email", email: email, events: channel.events, description: channel.description))
            if global.json { return try Console.json(created) }
            Console.out("added email channel \(created.channel.id) (\(created.channel.target))")
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove a channel; what it still had to send is given up.", aliases: ["rm"])

        @OptionGroup var global: GlobalOptions
        @OptionGroup var channel: ChannelReference

        func run() async throws {
            let client = try await global.client()
            let (organization, id) = try await channel.resolve(client)
            try await client.deleteNotificationChannel(organizationID: organization, channelID: id)
            if !global.json { Console.out("removed notification channel \(id)") }
        }
    }

    struct Test: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send a test message (event channel.test) through one channel.",
            discussion: "Follow it with `chom notifications list`.")

        @OptionGroup var global: GlobalOptions
        @OptionGroup var channel: ChannelReference

        func run() async throws {
            let client = try await global.client()
            let (organization, id) = try await channel.resolve(client)
            let queued = try await client.testNotificationChannel(organizationID: organization, channelID: id)
            if global.json { return try Console.json(queued) }
            Console.out("queued test message \(queued.notificationId)")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The organization's latest messages: where each went, its status and last answer.",
            aliases: ["ls"])

        @OptionGroup var global: GlobalOptions
        @Option(help: ArgumentHelp("The organization (ID, ID prefix or name).", valueName: "org"))
        var org: String
        @Option(help: "How many (1 to 100).")
        var limit = 20

        func run() async throws {
            let client = try await global.client()
            let messages = try await client.notifications(organizationID: client.resolveOrganization(org), limit: limit)
            if global.json { return try Console.json(ListResponse(items: messages)) }
            var table = Table(headers: ["ID", "EVENT", "CHANNEL", "TO", "STATUS", "ATTEMPTS", "CREATED", "LAST ANSWER"])
            for message in messages {
                table.append([
                    Format.shortID(message.id), message.event, message.channel, message.recipient, message.status,
                    String(message.attempts), Format.relative(message.createdAt), String((message.lastDetail ?? "-").prefix(60)),
                ])
            }
            Console.table(table)
        }
    }
}
