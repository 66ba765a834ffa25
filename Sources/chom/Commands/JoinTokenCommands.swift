import ArgumentParser
import CHOMAPI
import Foundation

struct JoinTokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "join-token",
        abstract: "Create, list and revoke the tokens new agents enroll with.",
        discussion: """
            A join token lets a new server enroll as an agent: it is shown once at creation, has an \
            expiry and a maximum number of uses, and can be revoked.

            Example:
              chom join-token create --description "web-3" --ttl 3600 --max-uses 1
              chom join-token list
            """,
        subcommands: [Create.self, List.self, Revoke.self, Uses.self],
        aliases: ["join-tokens"]
    )
}

extension JoinTokenCommand {
    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a join token and print the agent's enroll command.",
            discussion: """
                Prints the token once, with the ready-to-paste command to run on the new server. \
                The coordinator keeps only a hash: the token cannot be shown again. \
                With --output json, prints the whole response (token, CA fingerprint, enroll address).

                Example:
                  chom join-token create --description "web-3" --ttl 3600 --max-uses 1
                """
        )

        @OptionGroup var global: GlobalOptions

        @Option(help: "A note for the token list (up to 200 characters).")
        var description: String?

        @Option(
            name: .customLong("ttl"),
            help: ArgumentHelp(
                "Lifetime in seconds (60 to 2592000; the coordinator's default when omitted).", valueName: "seconds"))
        var ttlSeconds: Int?

        @Option(help: ArgumentHelp("How many agents may enroll with it (1 to 1000).", valueName: "n"))
        var maxUses: Int?

        func run() async throws {
            let client = try await global.client()
            let created = try await client.createJoinToken(
                CreateJoinTokenRequest(description: description, ttlSeconds: ttlSeconds.map(Double.init), maxUses: maxUses))
            if global.json { return try Console.json(created) }
            let token = created.joinToken
            let uses = token.maxUses == 1 ? "1 use" : "\(token.maxUses) uses"
            Console.out("Join token \(token.id) created: expires \(Format.relative(token.expiresAt)), up to \(uses).")
            Console.out("")
            Console.out("    \(created.token)")
            Console.out("")
            Console.out("This token is shown only once; it is not shown again. On the new server, run:")
            Console.out("")
            Console.out("    \(Self.enrollCommand(created))")
        }

        static func enrollCommand(_ created: CreatedJoinTokenResponse) -> String {
            "chom-agent enroll --coordinator \(created.enrollAddress) --ca-sha256 \(created.caSHA256)"
                + " --token \(created.token) --state-dir /var/lib/chom-agent"
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list",
            abstract: "List join tokens with their uses, state and expiry.",
            discussion: """
                STATE is active, used up, expired or revoked.

                Example:
                  chom join-token list --output json
                """,
            aliases: ["ls"]
        )

        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let tokens = try await global.client().joinTokens()
            if global.json { return try Console.json(ListResponse(items: tokens)) }
            let now = Date()
            var table = Table(headers: ["ID", "DESCRIPTION", "USES", "STATE", "EXPIRES", "CREATED"])
            for token in tokens {
                table.append([
                    token.id, Format.orDash(token.description), "\(token.uses)/\(token.maxUses)",
                    Self.state(token, now: now), Format.relative(token.expiresAt, now: now),
                    Format.relative(token.createdAt, now: now),
                ])
            }
            Console.table(table)
        }

        static func state(_ token: JoinTokenResponse, now: Date) -> String {
            if token.revokedAt != nil { return "revoked" }
            if token.expiresAt <= now { return "expired" }
            if token.uses >= token.maxUses { return "used up" }
            return "active"
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke a join token so no more agents can enroll with it.",
            discussion: """
                Agents already enrolled with it are not affected. ID may be a unique prefix.

                Example:
                  chom join-token revoke 3f2a9c1e
                """
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The join token's ID (or a unique prefix of it).")
        var id: String

        func run() async throws {
            let client = try await global.client()
            let id = try await client.resolveJoinToken(id)
            try await client.revokeJoinToken(id: id)
            if !global.json { Console.out("revoked join token \(id)") }
        }
    }

    struct Uses: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show every enrollment attempt made with a join token.",
            discussion: """
                Lists when, from where and with what outcome the token was presented, and the agent \
                it enrolled. ID may be a unique prefix.

                Example:
                  chom join-token uses 3f2a9c1e
                """
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The join token's ID (or a unique prefix of it).")
        var id: String

        func run() async throws {
            let client = try await global.client()
            let uses = try await client.joinTokenUses(id: try await client.resolveJoinToken(id))
            if global.json { return try Console.json(ListResponse(items: uses)) }
            let now = Date()
            var table = Table(headers: ["USED", "SOURCE", "OUTCOME", "AGENT"])
            for use in uses {
                table.append([
                    Format.relative(use.usedAt, now: now), use.sourceAddress, use.outcome, Format.shortID(use.agentId),
                ])
            }
            Console.table(table)
        }
    }
}
