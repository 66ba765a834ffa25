/// Where each agent serves /metrics, for Prometheus HTTP service discovery.
enum Migration0002MetricsAddress {
    static let migration = Migration(version: 2, name: "agent_metrics_address", sql: """
        ALTER TABLE agents ADD COLUMN metrics_address text NOT NULL DEFAULT '';
        """)
}
