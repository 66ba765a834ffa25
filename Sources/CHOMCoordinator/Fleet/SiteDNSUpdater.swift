import CHOMCore
import CHOMDNS
import CHOMStore
import Foundation
import Logging

/// DNS that follows each site: its fleet name `<site-id>.<fleet zone>` (and its own names that lie
/// in zones the provider serves) point at its agent's public addresses. Written when a site is
/// placed and when a migration switches it; the leader's upkeep pass rewrites whatever drifted or
/// failed and deletes the records of removed sites. Every write is a diff against what the provider
/// holds, so repeating one is harmless.
struct SiteDNSUpdater: Sendable {
    let store: Store
    let publisher: SiteDNSPublisher
    let logger: Logger

    /// Points the site's names at its agent, or removes them when the site is removed.
    func publish(_ id: SiteID) async throws {
        guard let site = try await store.sites(in: .fleet).get(id) else { return }
        let names = SiteDNSPlan.Site(id: site.id.description, domain: site.domain, aliases: site.spec.aliases)
        if site.isRemoved {
            try await publisher.remove(names)
            return
        }
        guard let agentID = site.agentID, let agent = try await store.agents.get(agentID),
            !agent.publicAddresses.isEmpty
        else { return }
        try await publisher.publish(names, addresses: agent.publicAddresses)
    }

    /// A migration switched the site: the same as `publish`.
    func siteMoved(_ id: SiteID) async throws { try await publish(id) }

    /// The leader's pass: every placed site published, every site removed in the last day removed.
    func upkeep(now: Date) async throws {
        var failures = 0
        for id in try await store.fleet.sitesForDNS(removedSince: now.addingTimeInterval(-86_400)) {
            do {
                try await publish(id)
            } catch {
                failures += 1
                logger.warning("dns upkeep failed for a site", metadata: [LogKey.siteID: "\(id)", LogKey.error: "\(error)"])
            }
        }
        if failures > 0 { throw CHOMError(.unavailable, "dns upkeep failed for \(failures) sites") }
    }
}
