import ArgumentParser
import CHOMAPI
import Foundation

/// A role in an organization, from the most to the least powerful.
enum OrganizationRoleArgument: String, ExpressibleByArgument, CaseIterable {
    case owner
    case admin
    case member
    case viewer
}

struct MembersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "members",
        abstract: "List an organization's members, change their role or tenants, remove them.",
        discussion: """
            Roles: owner > admin > member > viewer; only owners grant or take away the owner role. \
            A member may be limited to some tenants; "all" means every tenant of the organization. \
            New members join through `chom invitations`.

            --org takes the organization's ID, a unique prefix of it, or its name; USER the user's \
            ID, a unique prefix of it, or their email; --tenant the tenant's ID, prefix or name.

            Example:
              chom members list --org acme
              chom members set --org acme bob@acme.example --role admin
              chom members set --org acme bob@acme.example --tenant prod --tenant staging
            """,
        subcommands: [List.self, Set.self, Remove.self],
        aliases: ["member"]
    )

    static func details(_ membership: MembershipResponse) -> Table {
        .keyValue([
            ("User", membership.userId), ("Email", membership.email), ("Organization", membership.organizationId),
            ("Role", membership.role),
            ("Tenants", membership.tenantIds.isEmpty ? "all" : membership.tenantIds.joined(separator: ", ")),
            ("Since", Format.timestamp(membership.createdAt)),
        ])
    }
}

extension MembersCommand {
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list",
            abstract: "List the members of an organization with their role and tenants.",
            discussion: """
                Example:
                  chom members list --org acme
                """,
            aliases: ["ls"]
        )

        @OptionGroup var global: GlobalOptions

        @Option(help: ArgumentHelp("The organization (ID, ID prefix or name).", valueName: "org"))
        var org: String

        func run() async throws {
            let client = try await global.client()
            let members = try await client.allMembers(organizationID: client.resolveOrganization(org))
            if global.json { return try Console.json(ListResponse(items: members)) }
            let now = Date()
            var table = Table(headers: ["USER", "EMAIL", "ROLE", "TENANTS", "SINCE"])
            for member in members {
                table.append([
                    Format.shortID(member.userId), member.email, member.role, IdentityViews.tenants(member.tenantIds),
                    Format.relative(member.createdAt, now: now),
                ])
            }
            Console.table(table)
        }
    }

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change a member's role, the tenants they are limited to, or both.",
            discussion: """
                What is not given is left as it is. --tenant (repeatable) limits the member to \
                those tenants, replacing the earlier list; --all-tenants lifts the limit.

                Example:
                  chom members set --org acme bob@acme.example --role viewer --tenant production
                """
        )

        @OptionGroup var global: GlobalOptions

        @Option(help: ArgumentHelp("The organization (ID, ID prefix or name).", valueName: "org"))
        var org: String

        @Argument(help: ArgumentHelp("The member's user ID, ID prefix or email.", valueName: "user"))
        var user: String

        @Option(help: "The new role.")
        var role: OrganizationRoleArgument?

        @Option(
            name: .customLong("tenant"),
            help: ArgumentHelp("Limit the member to this tenant (ID, prefix or name); repeatable.", valueName: "tenant"))
        var tenants: [String] = []

        @Flag(help: "Let the member work in every tenant of the organization.")
        var allTenants = false

        func validate() throws {
            if allTenants, !tenants.isEmpty { throw ValidationError("--tenant and --all-tenants exclude each other") }
            if role == nil, tenants.isEmpty, !allTenants {
                throw ValidationError("nothing to change: give --role, --tenant or --all-tenants")
            }
        }

        func run() async throws {
            let client = try await global.client()
            let organization = try await client.resolveOrganization(org)
            let userID = try await client.resolveMember(user, organizationID: organization)
            var tenantIDs: [String]?
            if allTenants { tenantIDs = [] }
            if !tenants.isEmpty {
                var ids: [String] = []
                for tenant in tenants { ids.append(try await client.resolveTenant(tenant, organizationID: organization)) }
                tenantIDs = ids
            }
            let membership = try await client.updateMember(
                organizationID: organization, userID: userID, role: role?.rawValue, tenantIDs: tenantIDs)
            if global.json { return try Console.json(membership) }
            Console.table(MembersCommand.details(membership))
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove a member from an organization.",
            discussion: """
                Example:
                  chom members remove --org acme bob@acme.example
                """,
            aliases: ["rm"]
        )

        @OptionGroup var global: GlobalOptions

        @Option(help: ArgumentHelp("The organization (ID, ID prefix or name).", valueName: "org"))
        var org: String

        @Argument(help: ArgumentHelp("The member's user ID, ID prefix or email.", valueName: "user"))
        var user: String

        func run() async throws {
            let client = try await global.client()
            let organization = try await client.resolveOrganization(org)
            let userID = try await client.resolveMember(user, organizationID: organization)
            try await client.removeMember(organizationID: organization, userID: userID)
            if !global.json { Console.out("removed member \(userID) from organization \(organization)") }
        }
    }
}

struct InvitationsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "invitations",
        abstract: "Invite people to an organization, list and delete invitations, accept one.",
        discussion: """
            An invitation names an email, a role and optionally tenants. Creating one prints a \
            token, once; the invitee accepts with `chom invitations accept`, which creates their \
            account when the email has none, then signs in with `chom login`.

            Example:
              chom invitations create --org acme carol@acme.example --role member
              chom invitations list --org acme
              chom invitations accept --coordinator https://chom.example.com --name "Carol"
            """,
        subcommands: [List.self, Create.self, Delete.self, Accept.self],
        aliases: ["invitation", "invites"]
    )
}

extension InvitationsCommand {
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list",
            abstract: "List an organization's invitations (admins and owners).",
            discussion: """
                STATE is pending, accepted or expired.

                Example:
                  chom invitations list --org acme
                """,
            aliases: ["ls"]
        )

        @OptionGroup var global: GlobalOptions

        @Option(help: ArgumentHelp("The organization (ID, ID prefix or name).", valueName: "org"))
        var org: String

        func run() async throws {
            let client = try await global.client()
            let invitations = try await client.allInvitations(organizationID: client.resolveOrganization(org))
            if global.json { return try Console.json(ListResponse(items: invitations)) }
            let now = Date()
            var table = Table(headers: ["ID", "EMAIL", "ROLE", "TENANTS", "STATE", "EXPIRES", "CREATED"])
            for invitation in invitations {
                table.append([
                    Format.shortID(invitation.id), invitation.email, invitation.role,
                    IdentityViews.tenants(invitation.tenantIds), IdentityViews.state(invitation, now: now),
                    Format.relative(invitation.expiresAt, now: now), Format.relative(invitation.createdAt, now: now),
                ])
            }
            Console.table(table)
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Invite someone to an organization and print the invitation token once.",
            discussion: """
                The coordinator keeps only a hash of the token: it cannot be shown again. Send it \
                to the invitee, who runs `chom invitations accept`. With --output json, prints the \
                whole response (invitation and token).

                Example:
                  chom invitations create --org acme carol@acme.example --role member
                """
        )

        @OptionGroup var global: GlobalOptions

        @Option(help: ArgumentHelp("The organization (ID, ID prefix or name).", valueName: "org"))
        var org: String

        @Argument(help: "The invitee's email.")
        var email: String

        @Option(help: "The role the invitee gets.")
        var role: OrganizationRoleArgument

        @Option(
            name: .customLong("tenant"),
            help: ArgumentHelp(
                "Limit the invitee to this tenant (ID, prefix or name); repeatable. Default: every tenant.",
                valueName: "tenant"))
        var tenants: [String] = []

        func run() async throws {
            let client = try await global.client()
            let organization = try await client.resolveOrganization(org)
            var tenantIDs: [String] = []
            for tenant in tenants { tenantIDs.append(try await client.resolveTenant(tenant, organizationID: organization)) }
            let created = try await client.createInvitation(
                organizationID: organization, email: email, role: role.rawValue,
                tenantIDs: tenantIDs.isEmpty ? nil : tenantIDs)
            if global.json { return try Console.json(created) }
            let invitation = created.invitation
            Console.out(
                "Invitation \(invitation.id) for \(invitation.email) created: role \(invitation.role), tenants "
                    + "\(IdentityViews.tenants(invitation.tenantIds)), expires \(Format.relative(invitation.expiresAt)).")
            Console.out("")
            Console.out("    \(created.token)")
            Console.out("")
            Console.out("This token is shown only once; it is not shown again. Send it to \(invitation.email), who runs:")
            Console.out("")
            Console.out("    chom invitations accept --coordinator \(client.baseURL.absoluteString)")
            Console.out("")
            Console.out("and pastes it when asked.")
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete an invitation so its token no longer works.",
            discussion: """
                ID takes the invitation's ID, a unique prefix of it, or the invitee's email.

                Example:
                  chom invitations delete --org acme carol@acme.example
                """,
            aliases: ["rm", "revoke"]
        )

        @OptionGroup var global: GlobalOptions

        @Option(help: ArgumentHelp("The organization (ID, ID prefix or name).", valueName: "org"))
        var org: String

        @Argument(help: ArgumentHelp("The invitation's ID, ID prefix or email.", valueName: "id"))
        var id: String

        func run() async throws {
            let client = try await global.client()
            let organization = try await client.resolveOrganization(org)
            let invitationID = try await client.resolveInvitation(id, organizationID: organization)
            try await client.deleteInvitation(organizationID: organization, invitationID: invitationID)
            if !global.json { Console.out("deleted invitation \(invitationID)") }
        }
    }

    struct Accept: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Accept an invitation (creating your account if needed).",
            discussion: """
                Needs no token: the invitation token is the credential. Give it as TOKEN, or leave \
                it out to be asked (an argument is visible in ps). When the invited email has no \
                account yet, the account is created with the password (12 to 200 characters, asked \
                twice) and --name; otherwise give the account's password. Then sign in with \
                `chom login`.

                Example:
                  chom invitations accept --coordinator https://chom.example.com --name "Carol"
                """
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: ArgumentHelp("The invitation token (asked when omitted).", valueName: "token"))
        var token: String?

        @Flag(help: "Read the password from the first line of stdin instead of asking (needs TOKEN).")
        var passwordStdin = false

        @Option(help: ArgumentHelp("Your display name, for a new account.", valueName: "name"))
        var name: String?

        @Option(help: ArgumentHelp(
            "For an existing account with two-factor authentication: a current code or a recovery code.",
            valueName: "code"))
        var code: String?

        func validate() throws {
            if passwordStdin, token == nil { throw ValidationError("--password-stdin needs the TOKEN argument") }
        }

        func run() async throws {
            let client = try global.anonymousClient()
            let token = try self.token ?? Prompt.secret("Invitation token: ").trimmingCharacters(in: .whitespaces)
            guard !token.isEmpty else { throw CLIError("no invitation token given") }
            let password: String
            if passwordStdin {
                password = try Prompt.stdinLine("password")
            } else {
                Console.error("A new account gets this password; an existing account needs its current one.")
                password = try Prompt.newSecret("Password: ", again: "Repeat the password: ")
            }
            try PasswordCommand.check(password)
            let me = try await client.acceptInvitation(token: token, password: password, displayName: name, code: code)
            if global.json { return try Console.json(me) }
            Console.out(IdentityViews.me(me))
            Console.out("")
            Console.out("Invitation accepted. Sign in with: chom login --coordinator \(client.baseURL.absoluteString) --email \(me.user.email)")
        }
    }
}
