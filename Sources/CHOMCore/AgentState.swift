/// An agent's state as the coordinator sees it.
package enum AgentState: String, Sendable, Codable, CaseIterable {
    /// Enrolled, never connected yet.
    case enrolled
    case online
    case offline
    /// Removed by an operator: its certificate is refused at connect.
    case deleted
}
