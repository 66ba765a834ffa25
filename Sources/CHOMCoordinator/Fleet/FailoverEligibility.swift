import CHOMProtocol

/// Whether a site of a failed agent may be failed over, before any backup or target is looked at
/// (pure: `FleetFailover` and `FailoverPlanner` both ask it). Nil: it may.
enum FailoverEligibility {
    static let failoverOff = "failover is off for the site"
    static let cannotFence = "its agent does not fence itself when cut off (it announced no site lease): upgrade the agent"
    static let notFencedYet = "its agent has not yet configured it with the fence (configured by an older agent, or it failed since)"

    static func problem(siteFailoverEnabled: Bool, agentCapabilities: [String], siteUnfenced: Bool = false) -> String? {
        if !siteFailoverEnabled { return failoverOff }
        // Restored elsewhere while the old copy still served would be two copies taking writes.
        if !agentCapabilities.contains(SiteLeaseCapability.name) { return cannotFence }
        if siteUnfenced { return notFencedYet }
        return nil
    }
}
