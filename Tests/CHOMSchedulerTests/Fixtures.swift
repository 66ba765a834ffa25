import CHOMCore
import CHOMScheduler

/// Ids that are the same in every run, so a failing case can be replayed.
enum Fixture {
    static func uuid(_ prefix: String, _ number: Int) -> String {
        let hex = String(number, radix: 16)
        return prefix + "-0000-4000-8000-" + String(repeating: "0", count: 12 - hex.count) + hex
    }

    static func agent(_ number: Int) -> AgentID { AgentID(uuid("a0000000", number))! }
    static func site(_ number: Int) -> SiteID { SiteID(uuid("50000000", number))! }
    static func tenant(_ number: Int) -> TenantID { TenantID(uuid("70000000", number))! }

    static let gib: Int64 = 1 << 30

    /// 4 cores, 8 GiB, 100 GiB, 50 sites.
    static let capacity = Resources(cpuMillis: 4000, memoryBytes: 8 * gib, diskBytes: 100 * gib, sites: 50)

    static func node(
        _ number: Int, used: Resources = .zero, health: AgentHealth = .online, scheduling: SchedulingState = .schedulable,
        labels: [String: String] = [:], capacity: Resources = Fixture.capacity,
        kinds: Set<SiteSettings.Kind> = Set(SiteSettings.Kind.allCases)
    ) -> AgentNode {
        AgentNode(
            id: agent(number), name: "vps-\(number)", labels: labels, health: health, scheduling: scheduling,
            capacity: capacity, used: used, supportedKinds: kinds)
    }

    static func demand(
        _ number: Int, tenant: Int = 1, kind: SiteSettings.Kind = .static,
        requests: Resources = Resources(cpuMillis: 100, memoryBytes: 64 << 20, diskBytes: 1 << 30, sites: 1),
        constraints: [LabelConstraint] = []
    ) -> SiteDemand {
        SiteDemand(siteID: site(number), tenantID: Fixture.tenant(tenant), kind: kind, requests: requests, constraints: constraints)
    }

    /// A mixed fleet from a seed: capacities, usage and labels vary, some agents are cordoned.
    static func fleet(_ count: Int, seed: UInt64) -> [AgentNode] {
        var random = SplitMix(seed: seed)
        return (0..<count).map { number in
            let cores = Int64([2, 4, 8, 16][Int(random.next() % 4)])
            let capacity = Resources(cpuMillis: cores * 1000, memoryBytes: cores * 2 * gib, diskBytes: cores * 25 * gib, sites: 100)
            let share = Double(random.next() % 70) / 100
            let used = Resources(
                cpuMillis: Int64(Double(capacity.cpuMillis) * share), memoryBytes: Int64(Double(capacity.memoryBytes) * share),
                diskBytes: Int64(Double(capacity.diskBytes) * share * 0.8), sites: Int64(share * 100))
            return node(
                number, used: used, scheduling: random.next() % 10 == 0 ? .cordoned : .schedulable,
                labels: ["region": ["eu", "us"][Int(random.next() % 2)]], capacity: capacity)
        }
    }

    /// Applies moves the way the coordinator would: the site changes agent, usage follows.
    static func apply(_ moves: [Move], fleet: inout [AgentNode], sites: inout [PlacedSite]) {
        for move in moves {
            guard let site = sites.firstIndex(where: { $0.siteID == move.siteID }),
                let from = fleet.firstIndex(where: { $0.id == move.from }),
                let to = fleet.firstIndex(where: { $0.id == move.to })
            else { continue }
            fleet[from].used -= sites[site].requests
            fleet[to].used += sites[site].requests
            fleet[from].tenantSites[move.tenantID, default: 0] -= 1
            if fleet[from].tenantSites[move.tenantID] == 0 { fleet[from].tenantSites[move.tenantID] = nil }
            fleet[to].tenantSites[move.tenantID, default: 0] += 1
            sites[site].agentID = move.to
        }
    }

    /// Sites on agents with usage summed from them.
    static func placed(_ layout: [(agent: Int, requests: Resources)], tenant: Int = 1, firstSite: Int = 1) -> [PlacedSite] {
        layout.enumerated().map { offset, entry in
            PlacedSite(
                siteID: site(firstSite + offset), tenantID: Fixture.tenant(tenant), kind: .static, agentID: agent(entry.agent),
                requests: entry.requests)
        }
    }

    static func withUsage(_ fleet: [AgentNode], _ sites: [PlacedSite]) -> [AgentNode] {
        fleet.map { node in
            var node = node
            for site in sites where site.agentID == node.id {
                node.used += site.requests
                node.tenantSites[site.tenantID, default: 0] += 1
            }
            return node
        }
    }
}

/// A seeded generator, for shuffles and fleets that repeat across runs.
struct SplitMix: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
