/// The fleet's leadership epoch: one row, incremented by each replica that takes the leader's
/// advisory lock. Every leader write checks it in its own transaction (`LeadershipRepository`),
/// so an ex-leader whose session PostgreSQL has not yet noticed is gone cannot write.
enum Migration0010Leadership {
    static let migration = Migration(version: 10, name: "leadership", sql: """
        CREATE TABLE fleet_leadership (
            id int PRIMARY KEY CHECK (id = 1),
            epoch bigint NOT NULL,
            holder text NOT NULL,
            acquired_at timestamptz NOT NULL,
            renewed_at timestamptz
        );
        """)
}
