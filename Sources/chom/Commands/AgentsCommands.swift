import ArgumentParser
import CHOMAPI
import Foundation

struct AgentsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agents",
        abstract: "List, inspect and delete the fleet's agents.",
        discussion: """
            Agents are the servers that host sites. They join with a join token \
            (see `chom join-token create`) and report their health in heartbeats.

            Example:
              chom agents list
              chom agents show 1a2b3c4d
            """,
        subcommands: [List.self, Show.self, Ping.self, Delete.self, Cordon.self, Uncordon.self, Drain.self, Label.self],
        aliases: ["agent"]
    )
}

extension AgentsCommand {
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list",
            abstract: "List agents with their state, capacity and last heartbeat.",
            discussion: """
                SITES/MAX is the sites placed on the agent over the most it takes; LOAD is the \
                1-minute load average from its last heartbeat.

                Example:
                  chom agents list --output json
                """,
            aliases: ["ls"]
        )

        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let agents = try await global.client().agents()
            if global.json { return try Console.json(ListResponse(items: agents)) }
            let now = Date()
            var table = Table(headers: [
                "ID", "NAME", "STATE", "HEALTH", "SCHEDULING", "SITES/MAX", "CPU", "MEM", "LOAD", "LAST HEARTBEAT",
            ])
            for agent in agents {
                table.append([
                    Format.shortID(agent.id), agent.name, agent.state, agent.health, agent.scheduling,
                    "\(agent.sites)/\(agent.maxSites)",
                    "\(agent.cpuCount)", Format.bytes(agent.memoryTotalBytes), Format.load(agent.load1),
                    Format.relative(agent.lastHeartbeatAt, now: now),
                ])
            }
            Console.table(table)
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show one agent in full.",
            discussion: """
                ID may be the full ID or a unique prefix, as `chom agents list` prints it.

                Example:
                  chom agents show 1a2b3c4d
                """
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The agent's ID (or a unique prefix of it).")
        var id: String

        func run() async throws {
            let client = try await global.client()
            let agent = try await client.agent(id: try await client.resolveAgent(id))
            if global.json { return try Console.json(agent) }
            let now = Date()
            Console.table(
                .keyValue([
                    ("ID", agent.id), ("Name", agent.name), ("State", agent.state), ("Health", agent.health),
                    ("Scheduling", agent.scheduling),
                    ("Labels", agent.labels.isEmpty ? "-" : agent.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")),
                    ("Addresses", agent.publicAddresses.isEmpty ? "-" : agent.publicAddresses.joined(separator: " ")),
                    ("Site kinds", agent.siteKinds.joined(separator: ", ")), ("Version", agent.version),
                    ("Hostname", agent.hostname), ("Sites", "\(agent.sites) of \(agent.maxSites)"),
                    ("CPUs", "\(agent.cpuCount)"), ("Memory", Format.bytes(agent.memoryTotalBytes)),
                    ("Disk free", Format.bytes(agent.diskFreeBytes)), ("Load (1m)", Format.load(agent.load1)),
                    ("Last heartbeat", Format.timestamp(agent.lastHeartbeatAt, now: now)),
                    ("Enrolled", Format.timestamp(agent.enrolledAt, now: now)),
                    ("Certificate expires", Format.timestamp(agent.certificateNotAfter, now: now)),
                ]))
        }
    }

    struct Ping: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send an agent a ping task and time its answer (platform operators).",
            discussion: """
                A ping goes the whole way every task goes: queued, sealed into a signed envelope, sent down the \
                agent's stream, opened, journaled and answered; it touches nothing on the agent. Each line gives \
                the round trip as this command saw it (the request that queued it to the read that found it \
                answered, polled every 10 ms). Exits 1 when an answer does not come within --timeout (an offline agent's ping stays queued \
                until it reconnects).

                Example:
                  chom agents ping vps-2 --count 5
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The agent (name or ID).") var agent: String
        @Option(help: "Pings to send, one after another (1–1000).") var count = 1
        @Option(help: ArgumentHelp("Seconds to wait for each answer.", valueName: "seconds")) var timeout = 10.0

        func validate() throws {
            guard (1...1000).contains(count) else { throw ValidationError("--count must be 1 to 1000") }
            guard timeout > 0 else { throw ValidationError("--timeout must be above 0") }
        }

        func run() async throws {
            let client = try await global.client()
            let id = try await FleetNames.agent(agent, client: client)
            var answers: [TaskResponse] = []
            for _ in 0..<count {
                let started = ContinuousClock.now
                let queued = try await client.ping(agent: id)
                var task = queued
                let deadline = started + .milliseconds(Int64(timeout * 1000))
                while task.state != "succeeded", task.state != "failed", ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(10))
                    task = try await client.task(id: queued.id)
                }
                let seen = started.duration(to: .now)
                answers.append(task)
                if global.json { continue }
                guard task.state == "succeeded" else {
                    Console.out("no answer from \(agent) within \(timeout) s (task \(task.id) is \(task.state))")
                    throw ExitCode(1)
                }
                let millis = Format.milliseconds(Double(seen.components.seconds) + Double(seen.components.attoseconds) / 1e18)
                Console.out("\(agent): \(task.message ?? "pong") in \(millis)")
            }
            if global.json { try Console.json(ListResponse(items: answers)) }
            if answers.contains(where: { $0.state != "succeeded" }) { throw ExitCode(1) }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete an agent: its certificate is refused from then on.",
            discussion: """
                The coordinator marks the agent deleted; it no longer appears in lists and its \
                connections are refused. To bring the server back, enroll it again with a new join token. \
                ID may be the full ID or a unique prefix.

                Example:
                  chom agents delete 1a2b3c4d
                """,
            aliases: ["rm"]
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The agent's ID (or a unique prefix of it).")
        var id: String

        func run() async throws {
            let client = try await global.client()
            let id = try await client.resolveAgent(id)
            try await client.deleteAgent(id: id)
            if !global.json { Console.out("deleted agent \(id)") }
        }
    }
}
