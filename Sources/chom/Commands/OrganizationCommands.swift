import ArgumentParser
import CHOMAPI
import Foundation

struct OrganizationsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "orgs",
        abstract: "List, inspect, create and rename organizations.",
        discussion: """
            An organization holds tenants (which hold sites) and members with a role: owner, \
            admin, member or viewer. Platform operators see every organization and create them.

            ORG arguments take the ID, a unique prefix of it, or the organization's name.

            Example:
              chom orgs create "Acme" --owner-email alice@acme.example
              chom orgs list
              chom orgs rename acme "Acme Corp"
            """,
        subcommands: [List.self, Show.self, Create.self, Rename.self],
        aliases: ["org", "organizations"]
    )

    static func details(_ organization: OrganizationResponse) -> Table {
        .keyValue([
            ("ID", organization.id), ("Name", organization.name),
            ("Created", Format.timestamp(organization.createdAt)),
        ])
    }
}

extension OrganizationsCommand {
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list",
            abstract: "List the organizations you belong to (operators: all).",
            discussion: """
                Example:
                  chom orgs list --output json
                """,
            aliases: ["ls"]
        )

        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let organizations = try await global.client().allOrganizations()
            if global.json { return try Console.json(ListResponse(items: organizations)) }
            let now = Date()
            var table = Table(headers: ["ID", "NAME", "CREATED"])
            for organization in organizations {
                table.append([Format.shortID(organization.id), organization.name, Format.relative(organization.createdAt, now: now)])
            }
            Console.table(table)
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show one organization.",
            discussion: """
                Example:
                  chom orgs show acme
                """
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: ArgumentHelp("The organization's ID, ID prefix or name.", valueName: "org"))
        var organization: String

        func run() async throws {
            let client = try await global.client()
            let organization = try await client.organization(id: client.resolveOrganization(organization))
            if global.json { return try Console.json(organization) }
            Console.table(OrganizationsCommand.details(organization))
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an organization (platform operators only).",
            discussion: """
                --owner-email makes an existing user its owner; without it the organization starts \
                with no members (invite them with `chom invitations create`).

                Example:
                  chom orgs create "Acme" --owner-email alice@acme.example
                """
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The organization's name.")
        var name: String

        @Option(help: ArgumentHelp("An existing user's email, made the owner.", valueName: "email"))
        var ownerEmail: String?

        func run() async throws {
            let organization = try await global.client().createOrganization(name: name, ownerEmail: ownerEmail)
            if global.json { return try Console.json(organization) }
            Console.table(OrganizationsCommand.details(organization))
        }
    }

    struct Rename: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Rename an organization (owners only).",
            discussion: """
                Example:
                  chom orgs rename 3f2a9c1e "Acme Corp"
                """
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: ArgumentHelp("The organization's ID, ID prefix or name.", valueName: "org"))
        var organization: String

        @Argument(help: "The new name.")
        var name: String

        func run() async throws {
            let client = try await global.client()
            let organization = try await client.updateOrganization(id: client.resolveOrganization(organization), name: name)
            if global.json { return try Console.json(organization) }
            Console.table(OrganizationsCommand.details(organization))
        }
    }
}

struct TenantsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tenants",
        abstract: "List, inspect and create the tenants of an organization.",
        discussion: """
            A tenant groups sites inside an organization; members may be limited to some tenants. \
            --org takes the organization's ID, a unique prefix of it, or its name; TENANT the \
            tenant's ID, a unique prefix of it, or its name.

            Example:
              chom tenants create --org acme production
              chom tenants list --org acme
            """,
        subcommands: [List.self, Show.self, Create.self],
        aliases: ["tenant"]
    )

    static func details(_ tenant: TenantResponse) -> Table {
        .keyValue([
            ("ID", tenant.id), ("Name", tenant.name), ("Organization", tenant.organizationId),
            ("Created", Format.timestamp(tenant.createdAt)),
        ])
    }
}

extension TenantsCommand {
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list",
            abstract: "List an organization's tenants.",
            discussion: """
                Example:
                  chom tenants list --org acme
                """,
            aliases: ["ls"]
        )

        @OptionGroup var global: GlobalOptions

        @Option(help: ArgumentHelp("The organization (ID, ID prefix or name).", valueName: "org"))
        var org: String

        func run() async throws {
            let client = try await global.client()
            let tenants = try await client.allTenants(organizationID: client.resolveOrganization(org))
            if global.json { return try Console.json(ListResponse(items: tenants)) }
            let now = Date()
            var table = Table(headers: ["ID", "NAME", "CREATED"])
            for tenant in tenants {
                table.append([Format.shortID(tenant.id), tenant.name, Format.relative(tenant.createdAt, now: now)])
            }
            Console.table(table)
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show one tenant.",
            discussion: """
                Example:
                  chom tenants show 9b1deb4d
                """
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: ArgumentHelp("The tenant's ID, ID prefix or name.", valueName: "tenant"))
        var tenant: String

        func run() async throws {
            let client = try await global.client()
            let tenant = try await client.tenant(id: client.resolveTenant(tenant))
            if global.json { return try Console.json(tenant) }
            Console.table(TenantsCommand.details(tenant))
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a tenant in an organization (admins and owners).",
            discussion: """
                Example:
                  chom tenants create --org acme production
                """
        )

        @OptionGroup var global: GlobalOptions

        @Option(help: ArgumentHelp("The organization (ID, ID prefix or name).", valueName: "org"))
        var org: String

        @Argument(help: "The tenant's name.")
        var name: String

        func run() async throws {
            let client = try await global.client()
            let tenant = try await client.createTenant(organizationID: client.resolveOrganization(org), name: name)
            if global.json { return try Console.json(tenant) }
            Console.table(TenantsCommand.details(tenant))
        }
    }
}
