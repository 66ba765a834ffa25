import ArgumentParser
import CHOMAPI
import Foundation

struct SitesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sites",
        abstract: "Create, list, inspect and deploy sites.",
        discussion: """
            A site is a domain placed on one agent. Deploying uploads a directory as a new release \
            and switches the site to it.

            Example:
              chom sites create --domain example.com
              chom sites deploy example.com --dir ./public
              chom sites list
            """,
        subcommands: [Create.self, List.self, Show.self, Deploy.self],
        aliases: ["site"]
    )

    /// The key/value view shared by `create` and `show`.
    static func details(_ site: SiteResponse) -> Table {
        let now = Date()
        return .keyValue([
            ("ID", site.id), ("Domain", site.domain), ("State", site.state),
            ("Agent", site.agentId ?? "- (not placed)"), ("Current release", Format.orDash(site.currentReleaseId)),
            ("Current release path", Format.orDash(site.currentReleasePath)),
            ("Created", Format.timestamp(site.createdAt, now: now)), ("Updated", Format.timestamp(site.updatedAt, now: now)),
        ])
    }
}

extension SitesCommand {
    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a site and place it on an agent.",
            discussion: """
                The coordinator picks the online agent with the most free capacity. The site has no \
                content until its first `chom sites deploy`.

                Example:
                  chom sites create --domain example.com
                """
        )

        @OptionGroup var global: GlobalOptions

        @Option(help: "The site's domain name, e.g. example.com.")
        var domain: String

        func run() async throws {
            let site = try await global.client().createSite(domain: domain)
            if global.json { return try Console.json(site) }
            Console.table(SitesCommand.details(site))
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list",
            abstract: "List sites with their state, agent and current release.",
            discussion: """
                Example:
                  chom sites list --output json
                """,
            aliases: ["ls"]
        )

        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let sites = try await global.client().sites()
            if global.json { return try Console.json(ListResponse(items: sites)) }
            var table = Table(headers: ["DOMAIN", "STATE", "AGENT", "CURRENT RELEASE PATH"])
            for site in sites {
                table.append([site.domain, site.state, Format.shortID(site.agentId), Format.orDash(site.currentReleasePath)])
            }
            Console.table(table)
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show one site in full.",
            discussion: """
                Example:
                  chom sites show example.com
                """
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The site's domain or ID.")
        var site: String

        func run() async throws {
            let site = try await global.client().site(site)
            if global.json { return try Console.json(site) }
            Console.table(SitesCommand.details(site))
        }
    }
}
