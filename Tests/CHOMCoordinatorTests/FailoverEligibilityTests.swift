@testable import CHOMCoordinator
import CHOMProtocol
import Testing

@Suite("Failover eligibility: the site's switch, and an agent that fences itself")
struct FailoverEligibilityTests {
    static let lease = [SiteLayoutCapability.name, SiteLeaseCapability.name]

    @Test("every combination of the site's switch, the agent's lease capability and the site's fence", arguments: [
        (true, lease, false, nil as String?),
        (false, lease, false, FailoverEligibility.failoverOff),
        (true, [SiteLayoutCapability.name], false, FailoverEligibility.cannotFence),
        (true, [], false, FailoverEligibility.cannotFence),
        (true, lease, true, FailoverEligibility.notFencedYet),
        (true, [], true, FailoverEligibility.cannotFence),
        // Off is said first: it is the operator's choice, and holds whatever the agent.
        (false, [], true, FailoverEligibility.failoverOff),
    ])
    func eligibility(enabled: Bool, capabilities: [String], unfenced: Bool, expected: String?) {
        #expect(FailoverEligibility.problem(
            siteFailoverEnabled: enabled, agentCapabilities: capabilities, siteUnfenced: unfenced) == expected)
    }
}
