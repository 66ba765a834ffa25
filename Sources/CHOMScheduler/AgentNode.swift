package import CHOMCore

/// Whether the coordinator hears from an agent. Only an online agent receives sites.
package enum AgentHealth: String, Sendable, Hashable, CaseIterable, Codable {
    case online, suspect, offline
}

/// What an operator allows on an agent, independent of its health: a cordoned agent keeps its
/// sites and receives no new one; a draining agent is being emptied; a drained one is empty.
package enum SchedulingState: String, Sendable, Hashable, CaseIterable, Codable {
    case schedulable, cordoned, draining, drained
}

/// One agent as the scheduler sees it: a snapshot the caller builds from the database and the
/// heartbeats. The scheduler never reads anything else.
package struct AgentNode: Sendable, Hashable {
    package var id: AgentID
    /// For people: the reasons of moves and refusals name agents by it.
    package var name: String
    /// Region, zone and free-form labels, matched by `LabelConstraint`s.
    package var labels: [String: String]
    package var health: AgentHealth
    package var scheduling: SchedulingState
    /// Allocatable totals: CPU cores × 1,000, memory and disk bytes, the most sites it may hold.
    package var capacity: Resources
    /// What its sites take: per site, the larger of what it reported and what it requests.
    package var used: Resources
    /// Kinds it can serve (php needs php-fpm installed).
    package var supportedKinds: Set<SiteSettings.Kind> {
        get { Set(SiteSettings.Kind.allCases.filter { kindMask & Self.bit($0) != 0 }) }
        set { kindMask = newValue.reduce(0) { $0 | Self.bit($1) } }
    }
    /// Sites per tenant already on it, for anti-affinity.
    package var tenantSites: [TenantID: Int]
    /// `supportedKinds` as bits, kept inline: a set is one more heap object to reach for every
    /// agent a placement looks at, and that memory access is most of a placement's cost.
    private(set) var kindMask: UInt8

    package init(
        id: AgentID, name: String, labels: [String: String] = [:], health: AgentHealth = .online,
        scheduling: SchedulingState = .schedulable, capacity: Resources, used: Resources = .zero,
        supportedKinds: Set<SiteSettings.Kind> = Set(SiteSettings.Kind.allCases), tenantSites: [TenantID: Int] = [:]
    ) {
        self.id = id
        self.name = name
        self.labels = labels
        self.health = health
        self.scheduling = scheduling
        self.capacity = capacity
        self.used = used
        kindMask = supportedKinds.reduce(0) { $0 | Self.bit($1) }
        self.tenantSites = tenantSites
    }

    /// `supportedKinds.contains(kind)` without building the set.
    package func supports(_ kind: SiteSettings.Kind) -> Bool { kindMask & Self.bit(kind) != 0 }

    private static func bit(_ kind: SiteSettings.Kind) -> UInt8 {
        switch kind {
        case .static: 1
        case .php: 2
        case .app: 4
        }
    }
}
