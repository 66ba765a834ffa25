import ArgumentParser
import CHOMAPI
import Foundation

struct SitesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sites",
        abstract: "Create, configure, deploy, back up and remove sites.",
        discussion: """
            A site is a domain of a tenant, placed on one agent. Deploying uploads a directory as a \
            new release and switches the site to it.

            Example:
              chom sites create example.com --tenant production
              chom sites config example.com --kind php --alias www.example.com
              chom sites deploy example.com --dir ./public
              chom sites deploy example.com --git https://git.example.com/acme/site.git --ref main
              chom sites backup-schedule example.com --every 24
              chom sites logs example.com --kind error --tail 50
              chom sites list
            """,
        subcommands: [
            Create.self, List.self, Show.self, Config.self, Deploy.self, Rollback.self, Suspend.self, Resume.self,
            Remove.self, Logs.self, Metrics.self, Backups.self, Backup.self, Restore.self, VerifyBackup.self,
            BackupSchedule.self,
            Move.self,
            Requests.self, Failover.self,
        ],
        aliases: ["site"]
    )

    /// The key/value view shared by `create` and `show`.
    static func details(_ site: SiteResponse) -> Table {
        let now = Date()
        return .keyValue([
            ("ID", site.id), ("Domain", site.domain), ("Tenant", site.tenantId), ("State", site.state),
            ("Agent", site.agentId ?? "- (not placed)"), ("Kind", site.kind), ("Suspended", site.suspended ? "yes" : "no"),
            ("Aliases", site.config.aliases.isEmpty ? "-" : site.config.aliases.joined(separator: ", ")),
            ("TLS certificate", site.config.tlsCertificate == nil ? "-" : "custom"),
            ("Current release", Format.orDash(site.currentReleaseId)),
            ("Current release path", Format.orDash(site.currentReleasePath)),
            ("Last backup", Format.timestamp(site.lastBackupAt, now: now)),
            ("Last verified backup", Format.timestamp(site.lastVerifiedBackupAt, now: now)),
            ("Created", Format.timestamp(site.createdAt, now: now)), ("Updated", Format.timestamp(site.updatedAt, now: now)),
        ])
    }
}

extension SitesCommand {
    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a site in a tenant and place it on an agent.",
            discussion: """
                The site belongs to the tenant given with --tenant (its ID, a unique prefix of it, \
                or its name; see `chom tenants list --org ORG`). The coordinator picks the online \
                agent with the most free capacity. The site has no content until its first \
                `chom sites deploy`.

                Example:
                  chom sites create example.com --tenant production
                """
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: ArgumentHelp("The site's domain name, e.g. example.com.", valueName: "domain"))
        var domainArgument: String?

        @Option(name: .customLong("domain"), help: .hidden)
        var domainOption: String?

        @Option(help: ArgumentHelp("The tenant the site belongs to (ID, ID prefix or name).", valueName: "tenant"))
        var tenant: String

        /// The domain, as an argument or (as before) --domain.
        var domain: String { domainArgument ?? domainOption ?? "" }

        func validate() throws {
            switch (domainArgument, domainOption) {
            case (nil, nil): throw ValidationError("give the site's domain, e.g. chom sites create example.com --tenant TENANT")
            case (.some, .some): throw ValidationError("give the domain once (the argument, or the older --domain)")
            default: break
            }
        }

        func run() async throws {
            let client = try await global.client()
            let site = try await client.createSite(tenantID: client.resolveTenant(tenant), domain: domain)
            if global.json { return try Console.json(site) }
            Console.table(SitesCommand.details(site))
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list",
            abstract: "List sites with their tenant, state, agent and current release.",
            discussion: """
                Every site you may see, or with --tenant only that tenant's.

                Example:
                  chom sites list --tenant production
                  chom sites list --output json
                """,
            aliases: ["ls"]
        )

        @OptionGroup var global: GlobalOptions

        @Option(help: ArgumentHelp("Only this tenant's sites (ID, ID prefix or name).", valueName: "tenant"))
        var tenant: String?

        func run() async throws {
            let client = try await global.client()
            let sites: [SiteResponse]
            if let tenant {
                sites = try await client.allSites(tenantID: client.resolveTenant(tenant))
            } else {
                sites = try await client.sites()
            }
            if global.json { return try Console.json(ListResponse(items: sites)) }
            var table = Table(headers: ["DOMAIN", "TENANT", "STATE", "AGENT", "CURRENT RELEASE PATH"])
            for site in sites {
                table.append([
                    site.domain, Format.shortID(site.tenantId), site.state, Format.shortID(site.agentId),
                    Format.orDash(site.currentReleasePath),
                ])
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
