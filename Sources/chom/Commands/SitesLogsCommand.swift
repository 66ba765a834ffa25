import ArgumentParser
import CHOMAPI

/// `chom sites logs`: the last lines of a site's nginx access or error log, and with `--follow`
/// the lines written since, as they come.
extension SitesCommand {
    struct Logs: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the last lines of a site's access or error log, or follow it (members and up).",
            discussion: """
                The site's agent reads them from its root-owned log directory and the coordinator \
                waits for its answer; an agent that is offline or slow answers an error. \
                The read is recorded in the audit log.

                --follow prints the tail, then asks every --interval seconds for the lines written \
                since (through log rotations), until interrupted. Each answer carries a cursor, so \
                any coordinator replica can answer the next ask. Each ask is recorded in the audit \
                log. A rotation the agent could not \
                follow (the log rotated twice between two asks) is reported as a gap. An agent \
                that does not answer is reported and asked again; a refusal ends the command.

                Example:
                  chom sites logs example.com
                  chom sites logs example.com --kind error --tail 50
                  chom sites logs example.com --follow
                  chom sites logs example.com --output json
                  (with --follow, one JSON answer per line)
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
        @Flag(name: [.short, .long], help: "Keep printing new lines as they are written, until interrupted.")
        var follow = false
        @Option(help: ArgumentHelp("With --follow, seconds between asks, 1 to 60.", valueName: "seconds"))
        var interval: Int = 2

        func validate() throws {
            guard SiteLogsResponse.tailRange.contains(tail) else {
                throw ValidationError("--tail must be between 1 and 1000")
            }
            guard (1...60).contains(interval) else { throw ValidationError("--interval must be between 1 and 60") }
        }

        func run() async throws {
            let client = try await global.client()
            let logs = try await client.siteLogs(site, kind: kind.rawValue, tail: tail)
            try show(logs, follow: false)
            guard follow else { return }
            guard var cursor = logs.cursor else {
                throw ValidationError("the site's agent cannot be followed (it hands out no log positions): upgrade it")
            }
            while true {
                let next: SiteLogsResponse
                do {
                    next = try await client.siteLogs(site, kind: kind.rawValue, after: cursor)
                } catch {
                    guard Self.isPassing(error) else { throw error }
                    Console.warning("\(error.description); asking again in \(interval) s")
                    try await Task.sleep(for: .seconds(interval))
                    continue
                }
                try show(next, follow: true)
                if let advanced = next.cursor { cursor = advanced }
                // More lines waiting: ask again at once.
                if !next.truncated { try await Task.sleep(for: .seconds(interval)) }
            }
        }

        private func show(_ logs: SiteLogsResponse, follow: Bool) throws {
            if global.json {
                if self.follow {
                    try Console.jsonLine(logs)
                } else {
                    try Console.json(logs)
                }
                return
            }
            if logs.gap { Console.warning("the log was rotated or cut faster than it was followed: lines may be missing here") }
            for line in logs.lines { Console.out(Self.printable(line)) }
            if logs.truncated, !follow {
                Console.warning("fewer lines than asked: the agent's byte limit was reached first")
            }
        }

        /// `line` with control characters (but tab) shown as U+FFFD: a site's code writes to its
        /// error log (a FastCGI stderr), and escape sequences must not reach the reader's terminal.
        static func printable(_ line: String) -> String {
            var scalars = String.UnicodeScalarView()
            for scalar in line.unicodeScalars {
                let control = (scalar.value < 0x20 && scalar != "\t") || (0x7F...0x9F).contains(scalar.value)
                scalars.append(control ? "\u{FFFD}" : scalar)
            }
            return String(scalars)
        }

        /// An agent slow, offline or in the middle of a move: worth asking again, not ending.
        static func isPassing(_ error: AdminClientError) -> Bool {
            guard let status = error.status else { return true }
            return [502, 503, 504].contains(status)
        }
    }
}
