import ArgumentParser
import CHOMAPI
import Foundation

/// `chom agents cordon|uncordon|drain|label`: the scheduling axis of an agent (platform operators).
extension AgentsCommand {
    struct Cordon: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Stop placing new sites on an agent; the sites it has stay.",
            discussion: """
                AGENT is its name, its ID or a unique prefix of the ID.

                Example:
                  chom agents cordon vps-3
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The agent's name or ID.") var agent: String

        func run() async throws {
            try await SchedulingChange.run("cordon", agent: agent, global: global)
        }
    }

    struct Uncordon: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Let the scheduler place sites on an agent again (ends a cordon, a drain or drained).",
            discussion: """
                Example:
                  chom agents uncordon vps-3
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The agent's name or ID.") var agent: String

        func run() async throws {
            try await SchedulingChange.run("uncordon", agent: agent, global: global)
        }
    }

    struct Drain: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Cordon an agent and move every site off it.",
            discussion: """
                The coordinator's leader migrates the agent's sites a few at a time (fleet.maxConcurrentMigrations), \
                the scheduler choosing each target; each move copies the site through a backup, checks its health \
                on the target, then switches placement and DNS. The agent ends "drained" with no site. With \
                --follow the command prints each migration's steps until then.

                Example:
                  chom agents drain vps-3 --follow
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The agent's name or ID.") var agent: String
        @Flag(help: "Print progress until the agent is drained (exit 1 if a move fails).") var follow = false
        @Option(help: ArgumentHelp("Give up following after this many seconds (exit 1).", valueName: "seconds"))
        var timeout: Int = 1800

        func run() async throws {
            let client = try await global.client()
            let id = try await FleetNames.agent(agent, client: client)
            var response = try await client.setScheduling(agent: id, "drain")
            if !follow {
                return global.json ? try Console.json(response) : Console.out("agent \(response.name) is \(response.scheduling)")
            }
            let started = Date().addingTimeInterval(-5)
            let deadline = Date().addingTimeInterval(TimeInterval(timeout))
            var printed: [String: String] = [:]
            var failed = false
            while response.scheduling == "draining" {
                for migration in try await client.migrations().filter({ $0.fromAgentId == id && $0.createdAt >= started }) {
                    let line = MigrationLine.text(migration)
                    if printed[migration.id] != line {
                        printed[migration.id] = line
                        if !global.json { Console.out(line) }
                        if migration.state == "failed" { failed = true }
                    }
                }
                guard Date() < deadline else { throw CLIError("timed out after \(timeout) s; agent \(response.name) is still draining") }
                try await Task.sleep(for: .milliseconds(500))
                response = try await client.agent(id: id)
            }
            if global.json { try Console.json(response) } else {
                Console.out("agent \(response.name) is \(response.scheduling) with \(response.sites) sites")
            }
            if failed || response.scheduling != "drained" { throw ExitCode.failure }
        }
    }

    struct Label: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Replace an agent's labels (key=value; none clears them).",
            discussion: """
                Labels (region, zone, anything) are what placement constraints match.

                Example:
                  chom agents label vps-3 region=eu zone=eu-1a
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The agent's name or ID.") var agent: String
        @Argument(help: "Labels as key=value.") var labels: [String] = []

        func run() async throws {
            var parsed: [String: String] = [:]
            for label in labels {
                guard let equals = label.firstIndex(of: "="), equals != label.startIndex else {
                    throw ValidationError("a label is key=value, got '\(label)'")
                }
                parsed[String(label[..<equals])] = String(label[label.index(after: equals)...])
            }
            let client = try await global.client()
            let response = try await client.setLabels(agent: try await FleetNames.agent(agent, client: client), parsed)
            if global.json { return try Console.json(response) }
            Console.out("agent \(response.name): " + (response.labels.isEmpty ? "no labels" : response.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")))
        }
    }
}

enum SchedulingChange {
    static func run(_ verb: String, agent: String, global: GlobalOptions) async throws {
        let client = try await global.client()
        let response = try await client.setScheduling(agent: try await FleetNames.agent(agent, client: client), verb)
        if global.json { return try Console.json(response) }
        Console.out("agent \(response.name) is \(response.scheduling)")
    }
}

/// Agents named by name, ID or ID prefix.
enum FleetNames {
    static func agent(_ input: String, client: AdminClient) async throws -> String {
        if let byName = try await client.agents().first(where: { $0.name == input }) { return byName.id }
        return try await client.resolveAgent(input)
    }
}

/// One line per migration state, for `--follow`.
enum MigrationLine {
    /// A failover's recovery point and time ("-" for other moves).
    static func recovery(_ migration: MigrationResponse) -> String {
        guard let point = migration.recoveryPointSeconds else { return "-" }
        var text = "point \(Format.duration(point))"
        if migration.backupVerified == false { text += " unverified" }
        if let time = migration.recoveryTimeSeconds { text += ", time \(Format.duration(time))" }
        return text
    }

    static func text(_ migration: MigrationResponse) -> String {
        let site = migration.domain ?? Format.shortID(migration.siteId)
        let route = "\(Format.shortID(migration.fromAgentId)) → \(Format.shortID(migration.toAgentId))"
        switch migration.state {
        case "succeeded":
            let window = migration.maintenanceSeconds.map { String(format: ", maintenance %.1f s", $0) } ?? ""
            return "\(site): \(route) done\(window)"
        case "failed":
            return "\(site): \(route) FAILED at \(migration.failedStep ?? migration.step): \(migration.message)"
        default:
            return "\(site): \(route) \(migration.step)"
        }
    }
}

extension SitesCommand {
    struct Move: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Move a site to another agent (platform operators).",
            discussion: """
                The migration configures the site on the target, copies it through a backup (verified by its \
                manifest), checks its health there, gives php and app sites a final pass (the old agent in \
                maintenance, a last backup restored), switches placement and DNS, lets the old agent proxy to the \
                new one until DNS caches expire, then removes the old copy. A failure before the switch leaves \
                the site serving from where it was, and says which step failed. Without --to the scheduler \
                chooses the target.

                Example:
                  chom sites move example.com --to vps-2 --follow
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The site's domain or ID.") var site: String
        @Option(help: ArgumentHelp("The agent to move to (name or ID).", valueName: "agent")) var to: String?
        @Flag(help: "Print each step until the migration ends (exit 1 if it fails).") var follow = false
        @Option(help: ArgumentHelp("Give up following after this many seconds (exit 1).", valueName: "seconds"))
        var timeout: Int = 900

        func run() async throws {
            let client = try await global.client()
            var target: String?
            if let to { target = try await FleetNames.agent(to, client: client) }
            var migration = try await client.moveSite(site, to: target)
            if !follow { return global.json ? try Console.json(migration) : Console.out(MigrationLine.text(migration)) }
            let deadline = Date().addingTimeInterval(TimeInterval(timeout))
            var last = ""
            while true {
                let line = MigrationLine.text(migration)
                if line != last, !global.json { Console.out(line) }
                last = line
                if migration.finishedAt != nil { break }
                guard Date() < deadline else { throw CLIError("timed out after \(timeout) s; migration \(migration.id) is at \(migration.step)") }
                try await Task.sleep(for: .milliseconds(300))
                migration = try await client.migration(id: migration.id)
            }
            if global.json { try Console.json(migration) }
            if migration.state != "succeeded" { throw ExitCode.failure }
        }
    }
}

extension SitesCommand {
    struct Requests: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Set the CPU, memory and disk the scheduler reserves for a site (platform operators).",
            discussion: """
                Placement, rebalancing and drains count these for the site on its agent. An option left out \
                takes the default of the site's kind (the coordinator's fleet.siteRequests); with no option \
                every override is cleared. The site stays where it is until the next move.

                Examples:
                  chom sites requests shop.example.com --cpu-millis 2000 --memory 2147483648
                  chom sites requests shop.example.com        # back to the kind's defaults
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The site's domain or ID.") var site: String
        @Option(help: ArgumentHelp("Thousandths of a core (1000 is one core).", valueName: "millicores"))
        var cpuMillis: Int64?
        @Option(help: ArgumentHelp("Memory in bytes.", valueName: "bytes")) var memory: Int64?
        @Option(help: ArgumentHelp("Disk in bytes.", valueName: "bytes")) var disk: Int64?

        func run() async throws {
            let client = try await global.client()
            let answer = try await client.setRequests(
                site: site, SiteRequestsRequest(cpuMillis: cpuMillis, memoryBytes: memory, diskBytes: disk))
            if global.json { return try Console.json(answer) }
            func mark(_ overridden: Int64?) -> String { overridden == nil ? " (default)" : "" }
            Console.out("""
                \(site) (\(answer.kind)): cpu \(answer.cpuMillis) m\(mark(answer.overrides.cpuMillis)), \
                memory \(answer.memoryBytes) B\(mark(answer.overrides.memoryBytes)), \
                disk \(answer.diskBytes) B\(mark(answer.overrides.diskBytes))
                """)
        }
    }
}

extension SitesCommand {
    struct Failover: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Turn failover on or off for one site (platform operators).",
            discussion: """
                With failover off the site never fails over when its agent is declared failed, and its agent \
                keeps serving it when its site lease runs out (no other agent would ever serve it). The site's \
                agent is told with a configure task. chom fleet failover --plan AGENT shows each site's setting.

                Examples:
                  chom sites failover shop.example.com off
                  chom sites failover shop.example.com on
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The site's domain or ID.") var site: String
        @Argument(help: ArgumentHelp("on or off.", valueName: "on|off")) var setting: String

        func validate() throws {
            guard ["on", "off"].contains(setting) else { throw ValidationError("the setting must be on or off") }
        }

        func run() async throws {
            let answer = try await global.client().setFailover(site: site, enabled: setting == "on")
            if global.json { return try Console.json(answer) }
            let task = answer.taskId.map { "; its agent is told (task \(Format.shortID($0)))" } ?? ""
            Console.out("failover is \(answer.failoverEnabled ? "on" : "off") for \(answer.domain)\(task)")
        }
    }
}

extension FleetCommand {
    struct Rebalance: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Plan (or with --apply, start) the moves that even out the fleet.",
            discussion: """
                The planner moves sites off agents above fleet.rebalance.utilizationThreshold and narrows the \
                spread of utilization, at most fleet.rebalance.maxMoves at once, with hysteresis: a plan applied \
                and computed again proposes nothing new.

                Example:
                  chom fleet rebalance
                  chom fleet rebalance --apply
                """)
        @OptionGroup var global: GlobalOptions
        @Flag(help: "Start a migration for every move.") var apply = false

        func run() async throws {
            let plan = try await global.client().rebalance(apply: apply)
            if global.json { return try Console.json(plan) }
            if plan.moves.isEmpty { return Console.out("the fleet is balanced: nothing to move") }
            var table = Table(headers: ["SITE", "FROM", "TO", "WHY"])
            for move in plan.moves { table.append([move.domain, move.fromAgentName, move.toAgentName, move.reason]) }
            Console.table(table)
            if plan.applied { Console.out("started \(plan.migrations.count) migrations (chom fleet migrations --open)") }
        }
    }

    struct Failover: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show what a failover of an agent would do (platform operators).",
            discussion: """
                When the failure detector declares an agent failed (silent for agents.heartbeatTTLSeconds, then \
                agents.failureGraceSeconds more) and fleet.failoverEnabled is on, the leader restores each of its \
                sites on another agent from the site's latest verified backup (else its latest succeeded one), then \
                switches placement and DNS; chom fleet migrations lists them (reason failover). --plan shows, for \
                each site of the agent, where it would go, from which backup and how old that backup is (the \
                recovery point), or why it would stay. It changes nothing. chom sites failover SITE off turns \
                failover off for one site.

                Example:
                  chom fleet failover --plan vps-2
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The agent (name or ID).") var agent: String
        @Flag(help: "Show the plan (the only mode: failover itself is the leader's).") var plan = false

        func validate() throws {
            guard plan else {
                throw ValidationError("failover runs on its own once an agent is declared failed; use --plan to see it")
            }
        }

        func run() async throws {
            let client = try await global.client()
            let plan = try await client.failoverPlan(agent: try await FleetNames.agent(agent, client: client))
            if global.json { return try Console.json(plan) }
            Console.out("agent \(plan.agentName) is \(plan.health); automatic failover is \(plan.failoverEnabled ? "on" : "off")")
            if plan.sites.isEmpty { return Console.out("it holds no site: nothing would move") }
            var table = Table(headers: ["SITE", "FAILOVER", "TO", "BACKUP", "RECOVERY POINT", "PROBLEM"])
            for site in plan.sites {
                let backup = site.backupId.map { Format.shortID($0) + (site.backupVerified == true ? "" : " (unverified)") }
                table.append([
                    site.domain, site.failoverEnabled ? "on" : "off", site.toAgentName ?? "-", backup ?? "-",
                    site.recoveryPointSeconds.map(Format.duration) ?? "-", site.problem ?? "",
                ])
            }
            Console.table(table)
        }
    }

    struct Migrations: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List site migrations and failovers, newest first.",
            discussion: """
                A failover (reason failover) restored a site of an agent declared failed on another agent: \
                RECOVERY shows its recovery point (the restored backup's age at the failure, "unverified" when no \
                verified backup existed) and, once it serves again, its recovery time (from the failure).

                Example:
                  chom fleet migrations --open
                """)
        @OptionGroup var global: GlobalOptions
        @Flag(help: "Only migrations still running.") var open = false

        func run() async throws {
            let migrations = try await global.client().migrations(open: open)
            if global.json { return try Console.json(ListResponse(items: migrations)) }
            var table = Table(headers: ["ID", "SITE", "FROM", "TO", "REASON", "STATE", "STEP", "STARTED", "RECOVERY"])
            let now = Date()
            for migration in migrations {
                table.append([
                    Format.shortID(migration.id), migration.domain ?? Format.shortID(migration.siteId),
                    Format.shortID(migration.fromAgentId), Format.shortID(migration.toAgentId), migration.reason,
                    migration.state, migration.failedStep.map { "\($0) (failed)" } ?? migration.step,
                    Format.relative(migration.createdAt, now: now), MigrationLine.recovery(migration),
                ])
            }
            Console.table(table)
        }
    }
}
