import ArgumentParser
import CHOMAPI

@main
struct Chom: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chom",
        abstract: "Operate a CHOM fleet through the coordinator's admin API.",
        discussion: """
            Every command talks to the coordinator's admin REST API.

            The address comes from --coordinator, else $CHOM_COORDINATOR, else http://127.0.0.1:8080. \
            The admin token comes from --token, else $CHOM_TOKEN, else the first line of \
            ~/.config/chom/token (keep that file mode 0600).

            Example, from nothing to a deployed site:
              chom join-token create --description "web-1"
              chom sites create --domain example.com
              chom sites deploy example.com --dir ./public
              chom fleet
            """,
        subcommands: [
            HealthCommand.self, JoinTokenCommand.self, AgentsCommand.self, SitesCommand.self, TasksCommand.self,
            FleetCommand.self,
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
                Console.error("chom: hint: pass the admin token with --token, $CHOM_TOKEN or ~/.config/chom/token")
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
