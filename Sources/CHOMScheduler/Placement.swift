package import CHOMCore

/// Placement for the foundation slice: a new site goes to the online agent with the
/// most free site slots; ties go to the earlier candidate (enrollment order). Pure.
/// `Scheduler.place` replaces it; this stays until site creation calls the scheduler.
package enum Placement {
    package struct Candidate: Sendable, Equatable {
        package var agentID: AgentID
        package var capacity: Capacity

        package init(agentID: AgentID, capacity: Capacity) {
            self.agentID = agentID
            self.capacity = capacity
        }
    }

    /// The chosen agent, or nil when no candidate has a free slot.
    package static func choose(_ candidates: [Candidate]) -> AgentID? {
        var best: Candidate?
        for candidate in candidates where candidate.capacity.freeSites > 0 {
            if best == nil || candidate.capacity.freeSites > best!.capacity.freeSites { best = candidate }
        }
        return best?.agentID
    }
}
