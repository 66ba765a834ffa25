import ArgumentParser
import CHOMAPI

@main
struct Chom: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chom",
        abstract: "Operate a CHOM fleet through the coordinator's admin API.",
        discussion: """
            Every command talks to the coordinator's admin REST API.

            Sign in once with `chom login`: the session is kept in ~/.config/chom/credentials.json \
            (mode 0600) and rotated before it expires; `chom logout` ends it. The token used is \
            --token, else $CHOM_TOKEN, else the `chom login` session, else the first line of \
            ~/.config/chom/token (keep that file mode 0600). The address is --coordinator, else \
            $CHOM_COORDINATOR, else the session's coordinator, else http://127.0.0.1:8080.

            Example, from nothing to a deployed site:
              chom login --coordinator https://chom.example.com --email alice@acme.example
              chom join-token create --description "web-1"
              chom tenants create --org acme production
              chom sites create example.com --tenant production
              chom sites deploy example.com --dir ./public
              chom fleet
            """,
        subcommands: [
            LoginCommand.self, LogoutCommand.self, MeCommand.self, PasswordCommand.self, TwoFactorCommand.self,
            TokensCommand.self, OrganizationsCommand.self, TenantsCommand.self, MembersCommand.self,
            InvitationsCommand.self, SitesCommand.self, TasksCommand.self, AgentsCommand.self, JoinTokenCommand.self,
            FleetCommand.self, AlertsCommand.self, NotificationsCommand.self, AuditCommand.self, BillingCommand.self,
            PlansCommand.self, HealthCommand.self,
        ]
    )

    @OptionGroup var global: GlobalOptions

    /// Parses and runs the command; API and CLI errors become one `chom: …` line on stderr and exit 1.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as AdminClientError {
            Console.error("chom: \(error)")
            if error.status == 401 {
                Console.error("chom: hint: run `chom login` to sign in again, or pass a token with --token or $CHOM_TOKEN")
            }
            Self.exit(withError: ExitCode.failure)
        } catch let error as CLIError {
            Console.error("chom: \(error.message)")
            Self.exit(withError: ExitCode.failure)
        } catch {
            Self.exit(withError: error)
        }
    }
}
