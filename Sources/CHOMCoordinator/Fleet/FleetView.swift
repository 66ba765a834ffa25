import CHOMCore
import CHOMProtocol
import CHOMScheduler
import CHOMStore
import Foundation

/// The fleet as the scheduler sees it, built from the store's rows. Pure.
///
/// Usage is what placed sites *request* (their kind's defaults, or their own override), as Nomad
/// schedules on allocations, raised to the memory and disk the agent's heartbeat measured in use
/// when that is more: placement is deterministic for a given fleet state and never jittered by
/// CPU load. An agent's
/// capacity comes from its heartbeats (cores, memory, disk) and its site slots. A site moving to an
/// agent counts there as soon as its migration is open, so concurrent placements see it.
struct FleetView: Sendable {
    var agents: [AgentNode]
    var sites: [PlacedSite]
    /// The agents' records by id, for names and addresses.
    var records: [AgentID: AgentRecord]
    var domains: [SiteID: String]
    /// Migrations open now (they count against the concurrency caps).
    var openMigrations: Int

    init(
        agents records: [AgentRecord], sites rows: [FleetSiteRow], openMigrations: [SiteMigrationRecord] = [],
        defaults: SiteRequestDefaults
    ) {
        var nodes: [AgentID: AgentNode] = [:]
        var order: [AgentID] = []
        for record in records where record.state != .deleted {
            nodes[record.id] = AgentNode(
                id: record.id, name: record.name, labels: record.labels,
                // Placement needs both: a stream held now, and the failure detector's verdict.
                health: record.state == .online ? AgentHealth(rawValue: record.health) ?? .online : .offline,
                scheduling: SchedulingState(rawValue: record.scheduling) ?? .cordoned,
                capacity: Self.capacity(of: record),
                supportedKinds: SiteKindCapability.kinds(in: record.capabilities) ?? Set(SiteSettings.Kind.allCases))
            order.append(record.id)
        }
        let moving = Dictionary(openMigrations.map { ($0.siteID, $0) }, uniquingKeysWith: { first, _ in first })
        var placed: [PlacedSite] = []
        var domains: [SiteID: String] = [:]
        for row in rows {
            domains[row.siteID] = row.domain
            let requests = defaults.requests(for: row.kind, override: Self.override(row.requestsJSON))
            nodes[row.agentID]?.used += requests
            nodes[row.agentID]?.tenantSites[row.tenantID, default: 0] += 1
            if let migration = moving[row.siteID], migration.toAgent != row.agentID {
                nodes[migration.toAgent]?.used += requests
                nodes[migration.toAgent]?.tenantSites[row.tenantID, default: 0] += 1
            }
            placed.append(PlacedSite(
                siteID: row.siteID, tenantID: row.tenantID, kind: row.kind, agentID: row.agentID, requests: requests,
                movable: moving[row.siteID] == nil && row.state != "removing"))
        }
        for record in records {
            guard let requested = nodes[record.id]?.used else { continue }
            nodes[record.id]?.used = Self.withLiveUsage(requested, facts: record.hostFacts)
        }
        agents = order.compactMap { nodes[$0] }
        sites = placed
        self.domains = domains
        self.openMigrations = openMigrations.count
        self.records = Dictionary(uniqueKeysWithValues: records.map { ($0.id, $0) })
    }

    /// A dimension the agent has not reported yet (no heartbeat with host facts, or a host that
    /// cannot tell) does not limit placement: only what is known is enforced, site slots always.
    static func capacity(of record: AgentRecord) -> Resources {
        let unknown = Int64(1) << 60
        let facts = record.hostFacts
        return Resources(
            cpuMillis: facts.cpuCount > 0 ? Int64(facts.cpuCount) * 1000 : unknown,
            memoryBytes: facts.memoryTotalBytes > 0 ? Int64(clamping: facts.memoryTotalBytes) : unknown,
            diskBytes: facts.diskTotalBytes > 0 ? Int64(clamping: facts.diskTotalBytes) : unknown,
            sites: Int64(record.maxSites))
    }

    /// Memory and disk in use as the last heartbeat measured them count when they exceed what the
    /// agent's sites request (a site using more disk than it asked for, files that are no site's):
    /// an agent is never taken for emptier than it is. CPU stays what sites request; load jitters
    /// too much to place on.
    static func withLiveUsage(_ requested: Resources, facts: HostFacts) -> Resources {
        var used = requested
        if facts.memoryTotalBytes > 0, facts.memoryAvailableBytes <= facts.memoryTotalBytes {
            used.memoryBytes = max(used.memoryBytes, Int64(clamping: facts.memoryTotalBytes - facts.memoryAvailableBytes))
        }
        if facts.diskTotalBytes > 0, facts.diskFreeBytes <= facts.diskTotalBytes {
            used.diskBytes = max(used.diskBytes, Int64(clamping: facts.diskTotalBytes - facts.diskFreeBytes))
        }
        return used
    }

    static func override(_ json: String?) -> PartialResources? {
        guard let json else { return nil }
        return try? JSONDecoder().decode(PartialResources.self, from: Data(json.utf8))
    }

    func name(_ agent: AgentID) -> String { records[agent]?.name ?? agent.description }
}
