package import CHOMCore

/// A site where it runs today, as the planners see it.
package struct PlacedSite: Sendable, Hashable {
    package var siteID: SiteID
    package var tenantID: TenantID
    package var kind: SiteSettings.Kind
    package var agentID: AgentID
    /// The same figure the caller counted in its agent's `used` (the larger of reported and
    /// requested), so that a move takes off the source exactly what it adds to the target.
    package var requests: Resources
    /// False while the site migrates, is suspended mid-operation or is pinned: planners leave it.
    package var movable: Bool
    package var constraints: [LabelConstraint]

    package init(
        siteID: SiteID, tenantID: TenantID, kind: SiteSettings.Kind, agentID: AgentID, requests: Resources,
        movable: Bool = true, constraints: [LabelConstraint] = []
    ) {
        self.siteID = siteID
        self.tenantID = tenantID
        self.kind = kind
        self.agentID = agentID
        self.requests = requests
        self.movable = movable
        self.constraints = constraints
    }

    /// The site as a placement request, for choosing its next agent.
    package var demand: SiteDemand {
        SiteDemand(siteID: siteID, tenantID: tenantID, kind: kind, requests: requests, constraints: constraints)
    }
}

/// One site to migrate, with the reason for people (`chom fleet rebalance` prints it).
package struct Move: Sendable, Hashable, Codable {
    package var siteID: SiteID
    package var tenantID: TenantID
    package var from: AgentID
    package var to: AgentID
    package var reason: String

    package init(siteID: SiteID, tenantID: TenantID, from: AgentID, to: AgentID, reason: String) {
        self.siteID = siteID
        self.tenantID = tenantID
        self.from = from
        self.to = to
        self.reason = reason
    }
}

/// How `RebalancePlanner` decides, with the defaults a fleet starts with.
package struct RebalancePolicy: Sendable, Hashable, Codable {
    /// An agent whose peak utilization is above this fraction has sites moved off it. 0.80.
    package var utilizationThreshold: Double
    /// The most moves in flight at once, counting those already running. 5.
    package var maxMoves: Int
    /// A move never fills its target above `utilizationThreshold - hysteresis`, and a move made
    /// only to even the fleet out must lower the spread by at least this much. 0.05. With it, a
    /// plan applied and recomputed proposes nothing.
    package var hysteresis: Double
    /// The dimensions whose utilization counts: CPU, memory and disk. The site count is a hard
    /// limit that placement already respects in full, so an agent with all its slots taken is
    /// not overloaded for that.
    package var dimensions: [ResourceDimension]

    package init(
        utilizationThreshold: Double = 0.80, maxMoves: Int = 5, hysteresis: Double = 0.05,
        dimensions: [ResourceDimension] = [.cpu, .memory, .disk]
    ) {
        self.utilizationThreshold = utilizationThreshold
        self.maxMoves = maxMoves
        self.hysteresis = hysteresis
        self.dimensions = dimensions
    }
}
