import ArgumentParser
import CHOMAPI

/// `chom sites logs`: the last lines of a site's nginx access or error log.
extension SitesCommand {
    struct Logs: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the last lines of a site's access or error log (members and up).",
            discussion: """
                The site's agent reads them from its root-owned log directory and the coordinator \
                waits for its answer; an agent that is offline or slow answers an error. \
                The read is recorded in the audit log.

                Example:
                  chom sites logs example.com
                  chom sites logs example.com --kind error --tail 50
                  chom sites logs example.com --output json
                """
        )

        enum Kind: String, ExpressibleByArgument, CaseIterable {
            case access, error
        }

        @OptionGroup var global: GlobalOptions
        @Argument(help: "The site's domain or ID.") var site: String
        @Option(help: "Which log: access or error.") var kind: Kind = .access
        @Option(help: ArgumentHelp("How many lines from the end, 1 to 1000.", valueName: "lines"))
        var tail: Int = SiteLogsResponse.defaultTail

        func validate() throws {
            guard SiteLogsResponse.tailRange.contains(tail) else {
                throw ValidationError("--tail must be between 1 and 1000")
            }
        }

        func run() async throws {
            let client = try await global.client()
            let logs = try await client.siteLogs(site, kind: kind.rawValue, tail: tail)
            if global.json { return try Console.json(logs) }
            for line in logs.lines { Console.out(line) }
            if logs.truncated {
                Console.warning("fewer lines than asked: the agent's byte limit was reached first")
            }
        }
    }
}
