@testable import CHOMCoordinator
import CHOMProtocol
import Testing

@Suite("Failover eligibility: the site's switch, and an agent that fences itself")
struct FailoverEligibilityTests {
    static let lease = [SiteLayoutCapability.name, SiteLeaseCapability.name]

    @Test("every combination of the site's switch and the agent's lease capability", arguments: [
        (true, lease, nil as String?),
        (false, lease, FailoverEligibility.failoverOff),
        (true, [SiteLayoutCapability.name], FailoverEligibility.cannotFence),
        (true, [], FailoverEligibility.cannotFence),
        // Off is said first: it is the operator's choice, and holds whatever the agent.
        (false, [], FailoverEligibility.failoverOff),
    ])
    func eligibility(enabled: Bool, capabilities: [String], expected: String?) {
        #expect(FailoverEligibility.problem(siteFailoverEnabled: enabled, agentCapabilities: capabilities) == expected)
    }
}
