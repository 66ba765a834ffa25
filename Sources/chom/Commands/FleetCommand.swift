import ArgumentParser
import CHOMAPI

struct FleetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fleet",
        abstract: "The fleet: agents and their sites, rebalancing, migrations and failover.",
        subcommands: [Show.self, Rebalance.self, Migrations.self, Failover.self],
        defaultSubcommand: Show.self
    )
}

extension FleetCommand {
    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "show",
            abstract: "Show every agent with the sites it hosts and their current releases.",
            discussion: """
                One table: each agent (name, state, sites placed of its maximum) followed by its sites, \
                indented, with their state and current release path. Sites not placed on a listed \
                agent come last, under "(unplaced)".

                Example:
                  chom fleet
                """
        )

        @OptionGroup var global: GlobalOptions

        /// The JSON view: agents with their sites, then the sites on no listed agent.
        struct View: Encodable {
            struct Entry: Encodable {
                var agent: AgentResponse
                var sites: [SiteResponse]
            }

            var agents: [Entry]
            var unplacedSites: [SiteResponse]
        }

        func run() async throws {
            let client = try await global.client()
            async let agents = client.agents()
            async let sites = client.sites()
            let view = Self.view(agents: try await agents, sites: try await sites)
            if global.json { return try Console.json(view) }
            Console.table(Self.table(view))
        }

        static func view(agents: [AgentResponse], sites: [SiteResponse]) -> View {
            let byAgent = Dictionary(grouping: sites.filter { $0.agentId != nil }, by: { $0.agentId ?? "" })
            let agentIDs = Set(agents.map(\.id))
            let entries = agents.sorted { ($0.name, $0.id) < ($1.name, $1.id) }.map {
                View.Entry(agent: $0, sites: (byAgent[$0.id] ?? []).sorted { $0.domain < $1.domain })
            }
            let unplaced = sites.filter { $0.agentId.map { !agentIDs.contains($0) } ?? true }.sorted { $0.domain < $1.domain }
            return View(agents: entries, unplacedSites: unplaced)
        }

        static func table(_ view: View) -> Table {
            var table = Table(headers: ["AGENT / SITE", "STATE", "SCHEDULING", "SITES", "CURRENT RELEASE PATH"])
            for entry in view.agents {
                let agent = entry.agent
                table.append([
                    "\(agent.name) (\(Format.shortID(agent.id)))", agent.state, agent.scheduling,
                    "\(agent.sites)/\(agent.maxSites)", "",
                ])
                for site in entry.sites {
                    table.append(["  \(site.domain)", site.state, "", "", Format.orDash(site.currentReleasePath)])
                }
            }
            if !view.unplacedSites.isEmpty {
                table.append(["(unplaced)", "", "", "\(view.unplacedSites.count)", ""])
                for site in view.unplacedSites {
                    table.append(["  \(site.domain)", site.state, "", "", Format.orDash(site.currentReleasePath)])
                }
            }
            return table
        }
    }
}
