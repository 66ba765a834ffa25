import CHOMCore
package import Logging

/// Keeps one site's records in the provider in line with where it runs: the I/O around
/// `SiteDNSPlan`. Placement and a switch to another agent are both `publish` (it reads what the
/// provider holds at the site's names and writes only the difference, so a retry is harmless);
/// removing the site is `remove`.
package struct SiteDNSPublisher: Sendable {
    package let provider: any DNSProvider
    package let fleetZone: String
    package let ttl: Int
    /// Zones where a site's own names get direct records; nil asks the provider (`zones()`) on
    /// each call, so a zone added to PowerDNS is used without a restart.
    package let directZones: [String]?
    let logger: Logger

    package init(
        provider: any DNSProvider, fleetZone: String, ttl: Int = 60, directZones: [String]? = nil, logger: Logger
    ) throws(DNSError) {
        let settings = try SiteDNSPlan.Settings(fleetZone: fleetZone, ttl: ttl, directZones: directZones ?? [])
        self.provider = provider
        self.fleetZone = settings.fleetZone
        self.ttl = ttl
        self.directZones = directZones.map { _ in settings.directZones }
        self.logger = logger
    }

    /// The plan settings, with the served zones from configuration or from the provider.
    package func settings() async throws -> SiteDNSPlan.Settings {
        let served: [String]
        if let directZones {
            served = directZones
        } else {
            served = try await provider.zones()
        }
        return try SiteDNSPlan.Settings(fleetZone: fleetZone, ttl: ttl, directZones: served)
    }

    /// Points the site's fleet name (and its direct names) at `addresses`, deleting A/AAAA left
    /// at them that no longer apply, and at names `previous` had that `site` no longer has (an
    /// alias dropped). Returns the plan: `fleetName` and `delegatedNames` are what the API shows.
    /// A pass over many sites can read `settings()` once and hand it to each call.
    @discardableResult
    package func publish(
        _ site: SiteDNSPlan.Site, addresses: [String], previous: SiteDNSPlan.Site? = nil,
        settings: SiteDNSPlan.Settings? = nil
    ) async throws -> SiteDNSPlan {
        let settings = try await resolve(settings)
        let plan = try SiteDNSPlan(site: site, addresses: try SiteDNSPlan.Addresses(addresses), settings: settings)
        var live: [String: [DNSRecordSet]] = [:]
        for zone in plan.zones {
            live[zone] = try await provider.records(zone: zone, names: plan.names.byZone[zone] ?? [])
        }
        var byZone: [String: [DNSChange]] = [:]
        for zoneChanges in plan.reconcile(live: live) { byZone[zoneChanges.zone, default: []] += zoneChanges.changes }
        if let previous {
            let current = plan.names.byZone
            for zoneChanges in try SiteDNSPlan.removal(of: previous, settings: settings) {
                let kept = Set(current[zoneChanges.zone] ?? [])
                byZone[zoneChanges.zone, default: []] += zoneChanges.changes.filter { !kept.contains($0.key.name) }
            }
        }
        try await apply(byZone, site: site)
        return plan
    }

    /// Deletes every A/AAAA record the site may have (fleet name and direct names). Needs no
    /// address, and deleting what is already gone is not an error.
    package func remove(_ site: SiteDNSPlan.Site, settings: SiteDNSPlan.Settings? = nil) async throws {
        let settings = try await resolve(settings)
        var byZone: [String: [DNSChange]] = [:]
        for zoneChanges in try SiteDNSPlan.removal(of: site, settings: settings) {
            byZone[zoneChanges.zone, default: []] += zoneChanges.changes
        }
        try await apply(byZone, site: site)
    }

    private func resolve(_ settings: SiteDNSPlan.Settings?) async throws -> SiteDNSPlan.Settings {
        if let settings { return settings }
        return try await self.settings()
    }

    /// The fleet zone first, so a site's fleet name is right even if a direct zone then fails.
    private func apply(_ byZone: [String: [DNSChange]], site: SiteDNSPlan.Site) async throws {
        let order = byZone.keys.sorted { ($0 == fleetZone ? 0 : 1, $0) < ($1 == fleetZone ? 0 : 1, $1) }
        for zone in order {
            guard let changes = byZone[zone], !changes.isEmpty else { continue }
            try await provider.apply(changes, zone: zone)
            logger.info(
                "dns records updated",
                metadata: [LogKey.siteID: "\(site.id)", LogKey.dnsZone: "\(zone)", LogKey.dnsChanges: "\(changes.count)"])
        }
    }
}
