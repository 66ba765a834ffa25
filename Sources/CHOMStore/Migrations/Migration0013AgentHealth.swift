/// The leader's failure detector (`FailureDetector`) keeps its verdict per agent:
/// - `agents.health`: online, suspect or offline, from how long the agent has been silent. It is
///   not `state`, which says whether an agent holds a stream now (a replica sets it at once on
///   connect and disconnect); health changes only through the detector's thresholds, so a short
///   disconnect never reads as a failure.
/// - `agents.health_changed_at`: when it last changed.
enum Migration0013AgentHealth {
    static let migration = Migration(version: 13, name: "agent_health", sql: """
        ALTER TABLE agents ADD COLUMN health text NOT NULL DEFAULT 'online'
            CHECK (health IN ('online', 'suspect', 'offline'));
        ALTER TABLE agents ADD COLUMN health_changed_at timestamptz;
        """)
}
