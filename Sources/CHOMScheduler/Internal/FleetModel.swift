import CHOMCore

/// The fleet in memory while a planner works: moves are applied to it as they are chosen, so
/// each choice sees the ones before it.
struct FleetModel {
    var agents: [AgentNode]
    /// As given: moves change `siteAgent`, not these (changing one would copy them all).
    let sites: [PlacedSite]
    /// Each site's agent index, -1 when its agent is not in the fleet.
    private(set) var siteAgent: [Int]
    /// Site indices per agent index, in site id order.
    private(set) var sitesOf: [[Int]]
    private let indexOf: [AgentID: Int]
    /// Each agent's id words, for tie-breaks without recomputing them.
    let keys: [(UInt64, UInt64)]
    /// Each site's id words, the order of `sitesOf`.
    let siteKeys: [(UInt64, UInt64)]

    init(fleet: [AgentNode], sites: [PlacedSite]) {
        agents = fleet
        var indexOf: [AgentID: Int] = [:]
        indexOf.reserveCapacity(fleet.count)
        var keys: [(UInt64, UInt64)] = []
        keys.reserveCapacity(fleet.count)
        // By field through the buffer: iterating the agents by value would copy (and retain)
        // each one's tables.
        fleet.withUnsafeBufferPointer { agents in
            for index in agents.indices {
                if indexOf[agents[index].id] == nil { indexOf[agents[index].id] = index }
                keys.append(StableKey.words(agents[index].id))
            }
        }
        self.indexOf = indexOf
        self.keys = keys
        self.sites = sites
        var siteKeys: [(UInt64, UInt64)] = []
        siteKeys.reserveCapacity(sites.count)
        var sitesOf = Array(repeating: [Int](), count: fleet.count)
        var siteAgent: [Int] = []
        siteAgent.reserveCapacity(sites.count)
        sites.withUnsafeBufferPointer { sites in
            for site in sites.indices {
                siteKeys.append(StableKey.words(sites[site].siteID))
                let agent = indexOf[sites[site].agentID]
                siteAgent.append(agent ?? -1)
                if let agent { sitesOf[agent].append(site) }
            }
        }
        for agent in sitesOf.indices where sitesOf[agent].count > 1 {
            sitesOf[agent].sort { siteKeys[$0] < siteKeys[$1] }
        }
        self.siteKeys = siteKeys
        self.siteAgent = siteAgent
        self.sitesOf = sitesOf
    }

    func index(of agent: AgentID) -> Int? { indexOf[agent] }

    func keyLess(_ a: Int, _ b: Int) -> Bool { keys[a] < keys[b] }

    /// Moves a site in memory: usage, tenant counts and the site lists follow.
    mutating func move(site: Int, to target: Int) {
        let source = siteAgent[site]
        guard source >= 0, source != target else { return }
        let requests = sites[site].requests
        let tenant = sites[site].tenantID
        agents[source].used -= requests
        agents[target].used += requests
        if let count = agents[source].tenantSites[tenant] {
            agents[source].tenantSites[tenant] = count > 1 ? count - 1 : nil
        }
        agents[target].tenantSites[tenant, default: 0] += 1
        sitesOf[source].removeAll { $0 == site }
        let key = siteKeys[site]
        let position = sitesOf[target].firstIndex { siteKeys[$0] > key } ?? sitesOf[target].endIndex
        sitesOf[target].insert(site, at: position)
        siteAgent[site] = target
    }
}

/// Percent for reasons: 0.917 → "92%".
func percent(_ fraction: Double) -> String { "\(Int((fraction * 100).rounded()))%" }
