/// The records one site should have, computed without I/O.
///
/// Every site gets a fleet name, `<site-id>.<fleet zone>`, with A/AAAA records to its agent's
/// public addresses. Its domain and aliases get the same records directly when they lie inside a
/// zone the provider serves (the most specific such zone holds them); names outside every served
/// zone get nothing, and their owner points them at the fleet name with a CNAME
/// (`delegatedNames`, `fleetName`).
package struct SiteDNSPlan: Hashable, Sendable {
    /// The record types CHOM writes for a site, and the only ones it ever changes or deletes at
    /// a site's names (a tenant's MX or TXT at its apex is never touched).
    package static let managedTypes: [DNSRecordType] = [.a, .aaaa]

    /// The fleet-wide part: which zone holds fleet names, the TTL, and where direct records may go.
    package struct Settings: Hashable, Sendable {
        package var fleetZone: String
        package var ttl: Int
        /// Zones the provider serves besides the fleet zone, where a site's own names are written.
        package var directZones: [String]

        /// `.invalidName` for a zone that is not a valid DNS name; `ttl` must be 1…86,400.
        package init(fleetZone: String, ttl: Int = 60, directZones: [String] = []) throws(DNSError) {
            guard (1...86_400).contains(ttl) else {
                throw DNSError(.configuration, "the DNS TTL must be 1 to 86400 seconds, got \(ttl)")
            }
            self.fleetZone = try DNSName.validatedZone(fleetZone)
            var zones: [String] = []
            for zone in directZones { zones.append(try DNSName.validatedZone(zone)) }
            self.directZones = Array(Set(zones)).sorted()
            self.ttl = ttl
        }
    }

    /// What the plan needs to know of a site.
    package struct Site: Hashable, Sendable {
        package var id: String
        package var domain: String
        package var aliases: [String]

        package init(id: String, domain: String, aliases: [String] = []) {
            self.id = id
            self.domain = domain
            self.aliases = aliases
        }
    }

    /// An agent's public addresses, canonical, IPv4 and IPv6 apart.
    package struct Addresses: Hashable, Sendable {
        package var ipv4: [String]
        package var ipv6: [String]

        /// Sorts a mixed list into IPv4 and IPv6; `.invalidAddress` for anything else.
        package init(_ addresses: [String]) throws(DNSError) {
            var ipv4: Set<String> = []
            var ipv6: Set<String> = []
            for text in addresses {
                if let address = DNSName.canonicalIPv4(text) {
                    ipv4.insert(address)
                } else if let address = DNSName.canonicalIPv6(text) {
                    ipv6.insert(address)
                } else {
                    throw DNSError(.invalidAddress, "'\(text.prefix(60))' is not an IPv4 or IPv6 address")
                }
            }
            self.ipv4 = ipv4.sorted()
            self.ipv6 = ipv6.sorted()
        }

        package var isEmpty: Bool { ipv4.isEmpty && ipv6.isEmpty }
    }

    /// A site's names and the zone each lives in, which do not depend on where the site runs.
    package struct Names: Hashable, Sendable {
        package var fleetZone: String
        /// `<site-id>.<fleet zone>`.
        package var fleetName: String
        /// Domain and aliases inside a served zone, by zone.
        package var direct: [String: [String]]
        /// Domain and aliases outside every served zone: their owner CNAMEs them to `fleetName`.
        package var delegated: [String]

        /// Every name CHOM writes records at, by zone (the fleet name included).
        package var byZone: [String: [String]] {
            var zones = direct
            zones[fleetZone, default: []].append(fleetName)
            return zones.mapValues { Array(Set($0)).sorted() }
        }

        /// Validates the site's id, domain and aliases and places each name.
        package init(site: Site, settings: Settings) throws(DNSError) {
            let label = try DNSName.validatedLabel(site.id, what: "site id")
            fleetZone = settings.fleetZone
            fleetName = try DNSName.validated(label + "." + settings.fleetZone, what: "fleet name")
            let served = settings.directZones.filter { $0 != settings.fleetZone }
            var direct: [String: Set<String>] = [:]
            var delegated: Set<String> = []
            for (index, raw) in ([site.domain] + site.aliases).enumerated() {
                let name = try DNSName.validated(raw, what: index == 0 ? "domain" : "alias")
                // The fleet zone holds fleet names only: a domain there could take another site's name.
                guard !DNSName.isInside(name, zone: settings.fleetZone) else {
                    throw DNSError(
                        .invalidName, "'\(raw.prefix(80))' lies inside the fleet zone \(settings.fleetZone)")
                }
                if let zone = DNSName.servingZone(for: name, among: served) {
                    direct[zone, default: []].insert(name)
                } else {
                    delegated.insert(name)
                }
            }
            self.direct = direct.mapValues { $0.sorted() }
            self.delegated = delegated.sorted()
        }
    }

    package let names: Names
    package let addresses: Addresses
    package let ttl: Int
    /// The desired record sets, by zone.
    package let recordSets: [String: [DNSRecordSet]]

    /// `.invalidName` for an id, domain or alias that gives no valid name (or one inside the fleet
    /// zone), `.noAddress` when the agent has no public address: a plan never points a site nowhere.
    package init(site: Site, addresses: Addresses, settings: Settings) throws(DNSError) {
        guard !addresses.isEmpty else {
            throw DNSError(.noAddress, "the site's agent has no public address to point \(site.id) at")
        }
        names = try Names(site: site, settings: settings)
        self.addresses = addresses
        ttl = settings.ttl
        recordSets = names.byZone.mapValues { names in
            names.flatMap { name in
                [(DNSRecordType.a, addresses.ipv4), (.aaaa, addresses.ipv6)].compactMap { type, values in
                    values.isEmpty ? nil : DNSRecordSet(name: name, type: type, ttl: settings.ttl, values: values)
                }
            }
        }
    }

    /// `<site-id>.<fleet zone>`: what the API shows tenants as their CNAME target.
    package var fleetName: String { names.fleetName }
    /// Names the tenant must point at `fleetName` with a CNAME.
    package var delegatedNames: [String] { names.delegated }
    /// Zones this plan writes to, sorted.
    package var zones: [String] { recordSets.keys.sorted() }
}
