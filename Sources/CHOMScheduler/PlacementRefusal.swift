package import CHOMCore

/// The agent a placement chose.
package struct PlacementChoice: Sendable, Hashable {
    package var agentID: AgentID
    package var score: Double
    /// How many feasible agents were scored before the choice (at most the candidate limit
    /// when sampling).
    package var candidatesScored: Int

    package init(agentID: AgentID, score: Double, candidatesScored: Int) {
        self.agentID = agentID
        self.score = score
        self.candidatesScored = candidatesScored
    }
}

/// No agent can take the site: every agent's reasons, and a summary for people
/// ("0 of 4 agents can take the site: 2 cordoned, 1 offline, 1 insufficient disk"). An agent
/// with several reasons counts under each of them.
package struct PlacementRefusal: Sendable, Hashable, Error, CustomStringConvertible {
    package var perAgent: [AgentID: [InfeasibleReason]]
    /// How many agents each reason excluded.
    package var summary: [InfeasibleReason: Int]
    package var agentsEvaluated: Int
    package var description: String

    package init(perAgent: [AgentID: [InfeasibleReason]], agentsEvaluated: Int) {
        self.perAgent = perAgent
        self.agentsEvaluated = agentsEvaluated
        var summary: [InfeasibleReason: Int] = [:]
        for reasons in perAgent.values {
            for reason in Set(reasons) { summary[reason, default: 0] += 1 }
        }
        self.summary = summary
        description = Self.describe(summary: summary, agents: agentsEvaluated)
    }

    /// The summary, largest count first, then in the reasons' stable order.
    package var orderedSummary: [(reason: InfeasibleReason, agents: Int)] {
        summary.map { (reason: $0.key, agents: $0.value) }
            .sorted { $0.agents != $1.agents ? $0.agents > $1.agents : $0.reason < $1.reason }
    }

    /// Every agent's reasons, by agent id: a stable order for a problem document.
    package var orderedAgents: [(agent: AgentID, reasons: [InfeasibleReason])] {
        perAgent.map { (agent: $0.key, reasons: $0.value) }.sorted { StableKey.less($0.agent, $1.agent) }
    }

    private static func describe(summary: [InfeasibleReason: Int], agents: Int) -> String {
        guard agents > 0 else { return "0 of 0 agents can take the site: the fleet has no agent" }
        let parts = summary.map { (reason: $0.key, agents: $0.value) }
            .sorted { $0.agents != $1.agents ? $0.agents > $1.agents : $0.reason < $1.reason }
            .map { "\($0.agents) \($0.reason)" }
        return "0 of \(agents) agent\(agents == 1 ? "" : "s") can take the site: " + parts.joined(separator: ", ")
    }
}
