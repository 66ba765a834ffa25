import ArgumentParser
import CHOMAPI
import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

struct LoginCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "login",
        abstract: "Sign in and keep the session for the commands that follow.",
        discussion: """
            Asks for the email and the password (not echoed) unless given, then for a two-factor \
            code when the account has two-factor on (6 digits from the authenticator app, or one \
            of the recovery codes).

            The session is stored in ~/.config/chom/credentials.json (directory 0700, file 0600) \
            with the coordinator's address, replacing (and revoking) any earlier one. The token is \
            never printed. \
            Later commands use the session when neither --token nor $CHOM_TOKEN is given (and, \
            without --coordinator or $CHOM_COORDINATOR, talk to the session's coordinator); they \
            rotate the token shortly before it expires. `chom logout` ends the session.

            Example:
              chom login --coordinator https://chom.example.com --email alice@example.com
              chom login --email alice@example.com --password-stdin <pw.txt
            """
    )

    @OptionGroup var global: GlobalOptions

    @Option(help: ArgumentHelp("The account's email (asked when omitted).", valueName: "email"))
    var email: String?

    @Flag(help: "Read the password from the first line of stdin instead of asking (needs --email).")
    var passwordStdin = false

    @Option(
        help: ArgumentHelp(
            "The two-factor code, 6 digits or a recovery code (asked when the account needs one).", valueName: "code"))
    var code: String?

    func validate() throws {
        if passwordStdin, email == nil { throw ValidationError("--password-stdin needs --email") }
    }

    /// What `--output json` prints: everything but the token.
    struct View: Encodable {
        var coordinator: String
        var email: String
        var credentialsFile: String
        var tokenInfo: TokenResponse
    }

    func run() async throws {
        let client = try global.anonymousClient()
        let email = try self.email ?? Prompt.line("Email: ")
        let password = try passwordStdin ? Prompt.stdinLine("password") : Prompt.secret("Password: ")
        var response = try await CLIError.rejectingUnauthorized("login failed") { () async throws(AdminClientError) in
            try await client.login(email: email, password: password)
        }
        if response.status == .twoFactorRequired {
            guard let challenge = response.challenge else {
                throw CLIError("the coordinator asked for a two-factor code but sent no challenge")
            }
            let code = try twoFactorCode()
            response = try await CLIError.rejectingUnauthorized("login failed") { () async throws(AdminClientError) in
                try await client.loginTwoFactor(challenge: challenge, code: code)
            }
        }
        guard response.status == .authenticated, let token = response.token, let info = response.tokenInfo else {
            throw CLIError("the coordinator did not issue a session token")
        }
        let coordinator = client.baseURL.absoluteString
        let previous = CredentialsFile.load(global.credentialsFile).session
        let session = StoredSession(
            coordinator: coordinator, email: email, issued: IssuedTokenResponse(token: token, tokenInfo: info))
        try global.store(session)

        if global.json {
            return try Console.json(
                View(coordinator: coordinator, email: email, credentialsFile: global.credentialsFile.path, tokenInfo: info))
        }
        Console.out("Logged in to \(coordinator) as \(email).")
        Console.out(
            "The session expires \(Format.relative(info.expiresAt)) (\(info.expiresAt.formatted(.iso8601))); "
                + "chom rotates it before then.")
        Console.out("Stored in \(global.credentialsFile.path).")
        if let previous, previous.token != token, let revoked = await Self.revoke(previous) {
            Console.out("The previous session (\(previous.email) at \(previous.coordinator)) was \(revoked).")
        }
    }

    /// Best effort: revokes a session being replaced, so its token does not linger. Says what
    /// happened, or nil when the coordinator could not be asked.
    static func revoke(_ session: StoredSession) async -> String? {
        guard let url = CoordinatorAddress.parse(session.coordinator) else { return nil }
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = 5
        configuration.timeoutIntervalForResource = 10
        let client = AdminClient(baseURL: url, token: session.token, session: URLSession(configuration: configuration))
        do throws(AdminClientError) {
            try await client.logout()
            return "revoked"
        } catch {
            return error.status == 401 ? "already invalid" : nil
        }
    }

    /// --code, else asked for; spaces are dropped ("123 456").
    private func twoFactorCode() throws -> String {
        let code: String
        if let given = self.code {
            code = given
        } else if passwordStdin, !Prompt.isInteractive {
            throw CLIError("this account has two-factor on: pass --code with the 6-digit code or a recovery code")
        } else {
            code = try Prompt.line("Two-factor code (6 digits, or a recovery code): ")
        }
        let compact = code.filter { !$0.isWhitespace }
        guard !compact.isEmpty else { throw CLIError("no two-factor code given") }
        return compact
    }
}

struct LogoutCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logout",
        abstract: "Revoke the stored session and forget it.",
        discussion: """
            Revokes the `chom login` session's token at its coordinator (POST /v1/auth/logout) and \
            deletes ~/.config/chom/credentials.json. A session the coordinator no longer accepts is \
            simply forgotten. When the coordinator cannot be reached the file is kept, unless \
            --forget is given. Tokens passed with --token or $CHOM_TOKEN are not touched \
            (see `chom tokens revoke`).

            Example:
              chom logout
            """
    )

    @OptionGroup var global: GlobalOptions

    @Flag(help: "Delete the stored session even when the coordinator cannot be reached to revoke it.")
    var forget = false

    func run() async throws {
        let file = global.credentialsFile
        let loaded = CredentialsFile.load(file)
        for warning in loaded.warnings { Console.warning(warning) }
        guard let session = loaded.session else {
            if try global.forgetSession() {
                Console.out("Removed \(file.path), which held no usable session.")
            } else {
                Console.out("Not logged in: there is no stored session (\(file.path)).")
            }
            return
        }
        guard let url = CoordinatorAddress.parse(session.coordinator) else {
            throw CLIError("\(file.path) names no valid coordinator; delete it")
        }
        var outcome = "session revoked"
        do throws(AdminClientError) {
            try await AdminClient(baseURL: url, token: session.token).logout()
        } catch {
            if error.status == 401 {
                outcome = "the session was no longer valid"
            } else {
                guard forget else {
                    throw CLIError(
                        "cannot revoke the session at \(session.coordinator): \(error); the stored session is kept "
                            + "(`chom logout --forget` deletes it anyway)")
                }
                Console.warning("cannot revoke the session at \(session.coordinator): \(error); forgetting it anyway")
                outcome = "not revoked: it stays valid until \(session.expiresAt.formatted(.iso8601))"
            }
        }
        try global.forgetSession()
        guard !global.json else { return }
        Console.out("Logged out \(session.email) from \(session.coordinator) (\(outcome); \(file.path) removed).")
    }
}

struct MeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "me",
        abstract: "Show who you are signed in as, and your organizations and roles.",
        discussion: """
            Shows the user (whether a platform operator, whether two-factor is on) and the \
            organizations they belong to with their role and the tenants they are limited to \
            ("all": every tenant of the organization).

            Example:
              chom me
              chom me --output json
            """,
        aliases: ["whoami"]
    )

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let connection = try await global.connect()
        let client = connection.client
        let me = try await client.me()
        if global.json { return try Console.json(me) }
        // Organization names, when the token may list them; IDs alone otherwise.
        var names: [String: String] = [:]
        if !me.memberships.isEmpty, let organizations = try? await client.allOrganizations() {
            for organization in organizations { names[organization.id] = organization.name }
        }
        Console.out(IdentityViews.me(me, organizationNames: names))
        Console.out("")
        Console.out("Signed in to \(client.baseURL.absoluteString) with \(Self.describe(connection)).")
    }

    static func describe(_ connection: GlobalOptions.Connection) -> String {
        switch connection.resolution.source {
        case .session(let path):
            let expiry = connection.session.map { " (expires \(Format.relative($0.expiresAt)))" } ?? ""
            return "the `chom login` session from \(path)\(expiry)"
        case .legacyFile(let path): return "the token in \(path)"
        case .flag: return "the token from --token"
        case .environment: return "the token from $CHOM_TOKEN"
        case nil: return "no token"
        }
    }
}

struct PasswordCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "password",
        abstract: "Change your password.",
        discussion: """
            Asks for the current password and the new one twice (nothing is echoed). The new \
            password has 12 to 200 characters.

            Example:
              chom password
            """
    )

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let client = try await global.client()
        let current = try Prompt.secret("Current password: ")
        let new = try Prompt.newSecret("New password (12 to 200 characters): ", again: "Repeat the new password: ")
        try Self.check(new)
        try await CLIError.rejectingUnauthorized("password not changed") { () async throws(AdminClientError) in
            try await client.changePassword(currentPassword: current, newPassword: new)
        }
        if !global.json { Console.out("Password changed.") }
    }

    /// The API's length rule, checked before sending.
    static func check(_ password: String) throws {
        let range = ChangePasswordRequest.passwordLength
        guard range.contains(password.count) else {
            throw CLIError("a password has \(range.lowerBound) to \(range.upperBound) characters (this one has \(password.count))")
        }
    }
}
