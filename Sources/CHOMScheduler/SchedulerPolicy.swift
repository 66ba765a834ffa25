/// How the scheduler ranks the agents that can take a site: a fleet setting.
package enum ScoringAlgorithm: String, Sendable, Codable, CaseIterable {
    /// The fullest agent that fits (Nomad's default): keeps whole agents free for big sites and
    /// lets an operator retire the emptiest VPS.
    case binpack
    /// The emptiest agent: spreads the load, and a failing agent takes fewer sites with it.
    case spread
}

/// The scheduler's settings, with the defaults a fleet starts with.
package struct SchedulerPolicy: Sendable, Hashable, Codable {
    package var algorithm: ScoringAlgorithm
    /// Bounded sampling, as Nomad's: a placement scores at most this many feasible agents, so
    /// its cost does not grow with the fleet. 16 by default.
    package var candidateLimit: Int
    /// What each of the tenant's sites already on an agent takes off its score (scores run from
    /// 0 to 1 between an empty and a full agent). 0.25 by default: a tenant's sites go to
    /// different agents unless sharing one is much the better fit.
    package var tenantAntiAffinityWeight: Double
    /// The share of CPU, memory and disk kept free on every agent for the system and for bursts;
    /// the site count is a hard limit of its own. 0.20 by default, the complement of
    /// `RebalancePolicy.utilizationThreshold`'s 0.80, so that placement never fills an agent to
    /// the point where the rebalance planner would move sites off it again.
    package var reserveFraction: Double

    package init(
        algorithm: ScoringAlgorithm = .binpack, candidateLimit: Int = 16, tenantAntiAffinityWeight: Double = 0.25,
        reserveFraction: Double = 0.20
    ) {
        self.algorithm = algorithm
        self.candidateLimit = candidateLimit
        self.tenantAntiAffinityWeight = tenantAntiAffinityWeight
        self.reserveFraction = reserveFraction
    }
}
