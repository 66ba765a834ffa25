import CHOMAudit
import CHOMCore
import CHOMProtocol
import CHOMStore
import Foundation
import Logging

/// An agent upgraded to the hostile-tenant site layout converges every site tree it hosts at once:
/// on the first hello that announces `site_layout_v2` (``SiteLayoutCapability``), the coordinator
/// queues a configure task for each of the agent's sites (their whole configuration, as a member's
/// `PUT …/config` would) and raises the agent's recorded layout in the same transaction, so a
/// replica racing on the same connect queues nothing. Audited as `agent.site_layout.converge`.
struct SiteLayoutConvergence: Sendable {
    static let actor = "system:site-layout"

    let store: Store
    let tasks: SiteTaskBuilder

    /// Whether an agent announcing `capabilities` is one to converge (pure).
    static func announcesLayout(_ capabilities: [String]) -> Bool {
        capabilities.contains(SiteLayoutCapability.name)
    }

    /// Queues the configures when this is the agent's first hello with the new layout; returns how
    /// many were queued (nil when there was nothing to do).
    func converge(_ agent: AgentID, capabilities: [String], now: Date) async throws -> Int? {
        guard Self.announcesLayout(capabilities) else { return nil }
        let fleet = store.sites(in: .fleet)
        let sites = try await fleet.list(onAgent: agent)
        let queued = try sites.map { site in
            try tasks.task(.configure, site: site, agent: agent) { message in
                var configure = Chom_Agent_V1_ConfigureSiteTask()
                configure.site = try tasks.siteConfig(site)
                message.configure = configure
            }
        }
        struct AlreadyConverged: Error {}
        do {
            try await store.write(now: now) { transaction in
                guard try await store.agents.claimSiteLayout(agent, version: SiteLayoutCapability.version, in: transaction) else {
                    throw AlreadyConverged()
                }
                for (site, task) in zip(sites, queued) { try await fleet.enqueue(task, for: site, now: now, in: transaction) }
                try await transaction.record(AuditEntry(
                    time: now, actor: Self.actor, action: "agent.site_layout.converge", target: "agent:\(agent)",
                    details: ["layout": "\(SiteLayoutCapability.version)", "sites": "\(sites.count)"]))
            }
        } catch is AlreadyConverged {
            return nil
        }
        return sites.count
    }
}
