import ArgumentParser
import CHOMAPI
import Foundation

struct TwoFactorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "2fa",
        abstract: "Turn two-factor authentication (TOTP) on or off for your account.",
        discussion: """
            With two-factor on, `chom login` also asks for a 6-digit code from an authenticator \
            app (or one of the recovery codes).

            Example:
              chom 2fa enable
              chom 2fa disable
            """,
        subcommands: [Enable.self, Disable.self],
        aliases: ["two-factor"]
    )
}

extension TwoFactorCommand {
    struct Enable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Turn two-factor on: load the secret into an app, confirm a code, keep the recovery codes.",
            discussion: """
                Prints the otpauth:// URI and the base32 secret to add to an authenticator app, then \
                asks for the first code it shows (or takes --code) to confirm. Two-factor is on once \
                confirmed, and the 10 recovery codes are printed: each signs in once in place of a \
                code. They are shown only this once; store them somewhere safe.

                With --output json the URI and secret go to stderr while waiting for the code, and \
                stdout gets one JSON object {secret, otpauthUri, recoveryCodes}.

                Example:
                  chom 2fa enable
                """
        )

        @OptionGroup var global: GlobalOptions

        @Option(help: ArgumentHelp("The first code from the authenticator app (asked when omitted).", valueName: "code"))
        var code: String?

        struct View: Encodable {
            var secret: String
            var otpauthUri: String
            var recoveryCodes: [String]
        }

        func run() async throws {
            let client = try await global.client()
            let enrollment = try await client.enrollTwoFactor()
            let say: (String) -> Void = global.json ? { Console.error($0) } : { Console.out($0) }
            say("Add this account to your authenticator app, with the URI (or a QR code of it):")
            say("")
            say("    \(enrollment.otpauthUri)")
            say("")
            say("or by typing the secret:")
            say("")
            say("    \(Self.grouped(enrollment.secret))")
            say("")
            let recovery = try await confirm(client)
            if global.json {
                return try Console.json(
                    View(secret: enrollment.secret, otpauthUri: enrollment.otpauthUri, recoveryCodes: recovery.recoveryCodes))
            }
            Console.out("Two-factor authentication is on.")
            Console.out("")
            Console.out("Recovery codes (each signs in once in place of a code):")
            Console.out("")
            for code in recovery.recoveryCodes { Console.out("    \(code)") }
            Console.out("")
            Console.out("WARNING: store these codes somewhere safe now (a password manager, a printout): they are shown only this once.")
        }

        /// Confirms with --code, or with codes asked for: up to 3 tries on a terminal.
        private func confirm(_ client: AdminClient) async throws -> RecoveryCodesResponse {
            let tries = code == nil && Prompt.isInteractive ? 3 : 1
            for attempt in 1...tries {
                let typed = try code ?? Prompt.line("Code from the app: ")
                let code = typed.filter { !$0.isWhitespace }
                do throws(AdminClientError) {
                    return try await client.confirmTwoFactor(code: code)
                } catch {
                    guard error.status == 400, attempt < tries else { throw error }
                    Console.error("chom: \(error); try again with the next code")
                }
            }
            throw CLIError("two-factor was not confirmed")
        }

        /// "JBSW Y3DP EHPK 3PXP": the secret in groups of four, easier to type.
        static func grouped(_ secret: String) -> String {
            var groups: [String] = []
            var rest = Substring(secret)
            while !rest.isEmpty {
                groups.append(String(rest.prefix(4)))
                rest = rest.dropFirst(4)
            }
            return groups.joined(separator: " ")
        }
    }

    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Turn two-factor off (needs your password and a current code).",
            discussion: """
                Asks for the password (not echoed) and, unless --code is given, a code from the \
                authenticator app or one of the recovery codes.

                Example:
                  chom 2fa disable
                """
        )

        @OptionGroup var global: GlobalOptions

        @Option(help: ArgumentHelp("A code from the app, or a recovery code (asked when omitted).", valueName: "code"))
        var code: String?

        @Flag(help: "Read the password from the first line of stdin instead of asking.")
        var passwordStdin = false

        func run() async throws {
            let client = try await global.client()
            let password = try passwordStdin ? Prompt.stdinLine("password") : Prompt.secret("Password: ")
            let typed = try code ?? Prompt.line("Code from the app (or a recovery code): ")
            let code = typed.filter { !$0.isWhitespace }
            try await CLIError.rejectingUnauthorized("two-factor not turned off") { () async throws(AdminClientError) in
                try await client.disableTwoFactor(password: password, code: code)
            }
            if !global.json { Console.out("Two-factor authentication is off.") }
        }
    }
}
