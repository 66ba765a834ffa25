extension DNSChange {
    /// The changes that turn `current` into `desired` (both the sets of one zone): a delete for
    /// each set no longer wanted, an upsert for each set that is new or differs in values or TTL.
    /// Deletes come first, then upserts, each sorted by name and type, so the result is stable.
    package static func changes(from current: [DNSRecordSet], to desired: [DNSRecordSet]) -> [DNSChange] {
        let now = Dictionary(current.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
        let wanted = Dictionary(desired.map { ($0.key, $0) }, uniquingKeysWith: { _, last in last })
        let deletes = now.keys.filter { wanted[$0] == nil }.sorted().map { DNSChange.delete(name: $0.name, type: $0.type) }
        let upserts = wanted.keys.sorted().compactMap { key -> DNSChange? in
            let set = wanted[key]!
            return now[key] == set ? nil : .upsert(set)
        }
        return deletes + upserts
    }
}

extension SiteDNSPlan {
    /// From one plan to another, without reading the provider: placement (`from: nil`), a switch
    /// to another agent (same names, new addresses), an alias added or dropped, and removal
    /// (`to: nil`). Zones with nothing to change are left out; zones sorted.
    package static func transition(from old: SiteDNSPlan?, to new: SiteDNSPlan?) -> [DNSZoneChanges] {
        let before = old?.recordSets ?? [:]
        let after = new?.recordSets ?? [:]
        return Set(before.keys).union(after.keys).sorted().compactMap { zone in
            let changes = DNSChange.changes(from: before[zone] ?? [], to: after[zone] ?? [])
            return changes.isEmpty ? nil : DNSZoneChanges(zone: zone, changes: changes)
        }
    }

    /// What makes the provider match this plan, given what it holds now (`live`, by zone, at
    /// least the sets at this plan's names). Only A and AAAA at the site's own names are looked
    /// at: an AAAA left from an agent with IPv6 is deleted, a tenant's MX is not.
    package func reconcile(live: [String: [DNSRecordSet]]) -> [DNSZoneChanges] {
        let managed = Set(Self.managedTypes)
        return names.byZone.keys.sorted().compactMap { zone in
            let here = Set(names.byZone[zone] ?? [])
            let current = (live[zone] ?? []).filter { here.contains($0.name) && managed.contains($0.type) }
            let changes = DNSChange.changes(from: current, to: recordSets[zone] ?? [])
            return changes.isEmpty ? nil : DNSZoneChanges(zone: zone, changes: changes)
        }
    }

    /// Deletes of every A and AAAA CHOM may have written for a site, by zone. Needs no addresses
    /// (the site may be removed after its agent is gone) and no read: deleting an absent set is
    /// not an error.
    package static func removal(of site: Site, settings: Settings) throws(DNSError) -> [DNSZoneChanges] {
        let names = try Names(site: site, settings: settings)
        return names.byZone.keys.sorted().map { zone in
            DNSZoneChanges(
                zone: zone,
                changes: (names.byZone[zone] ?? []).flatMap { name in
                    managedTypes.map { DNSChange.delete(name: name, type: $0) }
                })
        }
    }
}
