import ArgumentParser
import CHOMAPI
import Foundation

struct TokensCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokens",
        abstract: "List, create and revoke your bearer tokens (sessions and personal access tokens).",
        discussion: """
            A personal access token is for scripts and CI: it is limited to the abilities given \
            and expires when told. Use it with --token or $CHOM_TOKEN. ID arguments take the \
            token's ID, a unique prefix of it, or its name.

            Abilities: \(CreateTokenRequest.knownAbilities.sorted().joined(separator: " ")).

            Example:
              chom tokens create ci --ability sites:read --ability sites:deploy \\
                  --expires-in 30d
              chom tokens list
              chom tokens revoke ci
            """,
        subcommands: [List.self, Create.self, Revoke.self, RevokeAll.self],
        aliases: ["token"]
    )
}

extension TokensCommand {
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list",
            abstract: "List your tokens with their abilities, state and expiry.",
            discussion: """
                ABILITIES "all" means every permission the user has. STATE is active, rotated (a \
                replaced session token, valid for a short grace period), expired or revoked. \
                The token of the current `chom login` session is marked with *.

                Example:
                  chom tokens list --output json
                """,
            aliases: ["ls"]
        )

        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let connection = try await global.connect()
            let tokens = try await connection.client.allTokens()
            if global.json { return try Console.json(ListResponse(items: tokens)) }
            let now = Date()
            let current = connection.session?.tokenId
            var table = Table(headers: ["ID", "NAME", "KIND", "ABILITIES", "STATE", "EXPIRES", "LAST USED"])
            for token in tokens {
                table.append([
                    Format.shortID(token.id) + (token.id == current ? "*" : ""), token.name, token.kind,
                    IdentityViews.abilities(token.abilities), IdentityViews.state(token, now: now),
                    Format.relative(token.expiresAt, now: now), Format.relative(token.lastUsedAt, now: now),
                ])
            }
            Console.table(table)
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a personal access token and print it once.",
            discussion: """
                Give at least one --ability and the expiry: --expires-in takes a duration (90m, \
                12h, 30d, 2w, or combined, e.g. 1d12h), --expires-at an ISO-8601 time \
                (2026-12-31T00:00:00Z) or date (2026-12-31, midnight UTC). The coordinator keeps \
                only a hash: the token cannot be shown again. With --output json, prints the whole \
                response (token and its details).

                Abilities: \(CreateTokenRequest.knownAbilities.sorted().joined(separator: " ")).

                Example:
                  chom tokens create ci --ability sites:read --ability sites:deploy \\
                      --expires-in 30d
                """
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: "A name for the token, to recognize it in `chom tokens list`.")
        var name: String

        @Option(
            name: .customLong("ability"),
            help: ArgumentHelp("An ability the token gets (repeatable, at least one).", valueName: "ability"))
        var abilities: [String] = []

        @Option(help: ArgumentHelp("How long the token lives, e.g. 90m, 12h, 30d.", valueName: "duration"))
        var expiresIn: String?

        @Option(help: ArgumentHelp("When the token expires, ISO-8601.", valueName: "time"))
        var expiresAt: String?

        func validate() throws {
            guard !abilities.isEmpty else { throw ValidationError("give at least one --ability") }
            let unknown = abilities.filter { !CreateTokenRequest.knownAbilities.contains($0) }
            guard unknown.isEmpty else {
                throw ValidationError(
                    "unknown abilit\(unknown.count == 1 ? "y" : "ies") \(unknown.joined(separator: ", ")); known: "
                        + CreateTokenRequest.knownAbilities.sorted().joined(separator: " "))
            }
            switch (expiresIn, expiresAt) {
            case (nil, nil): throw ValidationError("give --expires-in (e.g. 30d) or --expires-at")
            case (.some, .some): throw ValidationError("--expires-in and --expires-at exclude each other")
            case (let text?, nil):
                guard DurationText.seconds(text) != nil else {
                    throw ValidationError("--expires-in '\(text)' is not a duration such as 90m, 12h or 30d")
                }
            case (nil, let text?):
                guard TimestampText.date(text) != nil else {
                    throw ValidationError("--expires-at '\(text)' is not an ISO-8601 time such as 2026-12-31T00:00:00Z")
                }
            }
        }

        func run() async throws {
            let now = Date()
            let expiry: Date
            if let text = expiresIn, let seconds = DurationText.seconds(text) {
                expiry = now.addingTimeInterval(seconds)
            } else if let text = expiresAt, let date = TimestampText.date(text) {
                expiry = date
            } else {
                throw CLIError("give --expires-in or --expires-at")
            }
            guard expiry > now else { throw CLIError("--expires-at \(expiry.formatted(.iso8601)) is in the past") }
            // Whole seconds: the API's times carry no fractions.
            let expiresAt = Date(timeIntervalSince1970: expiry.timeIntervalSince1970.rounded(.down))
            let client = try await global.client()
            let issued = try await client.createToken(name: name, abilities: abilities, expiresAt: expiresAt)
            if global.json { return try Console.json(issued) }
            let info = issued.tokenInfo
            Console.out(
                "Token \(info.id) \"\(info.name)\" created: \(IdentityViews.abilities(info.abilities)), expires "
                    + "\(Format.relative(info.expiresAt)) (\(info.expiresAt.formatted(.iso8601))).")
            Console.out("")
            Console.out("    \(issued.token)")
            Console.out("")
            Console.out("This token is shown only once; it is not shown again. Use it with $CHOM_TOKEN (or --token).")
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke one of your tokens.",
            discussion: """
                Revoking the current `chom login` session's token also forgets the stored session.

                Example:
                  chom tokens revoke ci
                """,
            aliases: ["rm"]
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: ArgumentHelp("The token's ID, ID prefix or name.", valueName: "id"))
        var id: String

        func run() async throws {
            let connection = try await global.connect()
            let id = try await connection.client.resolveToken(id)
            try await connection.client.revokeToken(id: id)
            let wasSession = connection.session?.tokenId == id
            if wasSession { try global.forgetSession() }
            guard !global.json else { return }
            Console.out("revoked token \(id)")
            if wasSession { Console.out("It was this session's token: \(global.credentialsFile.path) removed; run `chom login` again.") }
        }
    }

    struct RevokeAll: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "revoke-all",
            abstract: "Revoke every token of yours, the one in use too.",
            discussion: """
                Signs you out everywhere: every session and personal access token stops working. \
                Asks for confirmation on a terminal; --yes skips it (needed without a terminal). \
                The stored `chom login` session is forgotten.

                Example:
                  chom tokens revoke-all --yes
                """
        )

        @OptionGroup var global: GlobalOptions

        @Flag(help: "Do not ask for confirmation.")
        var yes = false

        func run() async throws {
            if !yes {
                guard Prompt.isInteractive else { throw CLIError("this revokes every token of yours; pass --yes to confirm") }
                let answer = try Prompt.line("Revoke every token of yours, including the one in use? [y/N] ")
                guard ["y", "yes"].contains(answer.lowercased()) else { throw CLIError("nothing revoked") }
            }
            let connection = try await global.connect()
            try await connection.client.revokeAllTokens()
            let hadSession = try connection.session != nil && global.forgetSession()
            guard !global.json else { return }
            Console.out("revoked every token of yours")
            if hadSession { Console.out("\(global.credentialsFile.path) removed; run `chom login` to sign in again.") }
        }
    }
}
