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
    /// many were queued (nil when there was nothing to do). Sites never configured nor deployed
    /// have no tree to converge (`list(onAgent:)`). A site whose task cannot be built (a TLS key that does not open)
    /// is skipped and named in the audit entry: it converges with its next configure.
    func converge(_ agent: AgentID, capabilities: [String], now: Date) async throws -> Int? {
        guard Self.announcesLayout(capabilities),
            let layout = try await store.agents.siteLayout(agent), layout < SiteLayoutCapability.version
        else { return nil }
        let fleet = store.sites(in: .fleet)
        var queued: [(SiteRecord, NewTask)] = []
        var skipped: [String] = []
        for site in try await fleet.list(onAgent: agent) {
            do {
                queued.append((site, try tasks.task(.configure, site: site, agent: agent) { message in
                    var configure = Chom_Agent_V1_ConfigureSiteTask()
                    configure.site = try tasks.siteConfig(site)
                    message.configure = configure
                }))
            } catch {
                skipped.append(site.id.description)
            }
        }
        struct AlreadyConverged: Error {}
        do {
            try await store.write(now: now) { [queued, skipped] transaction in
                guard try await store.agents.claimSiteLayout(agent, version: SiteLayoutCapability.version, in: transaction) else {
                    throw AlreadyConverged()
                }
                for (site, task) in queued {
                    // Moved off the agent (or changed) since the list was read: its own configure
                    // or its new agent's copy is current; a configure built from the old record is not.
                    guard try await fleet.isUnchanged(site, in: transaction) else { continue }
                    try await fleet.enqueue(task, for: site, now: now, in: transaction)
                }
                var details = ["layout": "\(SiteLayoutCapability.version)", "sites": "\(queued.count)"]
                if !skipped.isEmpty { details["skipped"] = skipped.prefix(50).joined(separator: ",") }
                try await transaction.record(AuditEntry(
                    time: now, actor: Self.actor, action: "agent.site_layout.converge", target: "agent:\(agent)",
                    details: details))
            }
        } catch is AlreadyConverged {
            return nil
        }
        return queued.count
    }
}
