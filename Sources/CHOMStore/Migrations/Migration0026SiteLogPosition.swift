/// Where a `read_site_logs` task's read stopped (`device.inode.offset`, the agent's
/// `SiteLogPosition`) and whether a follow read found a gap: the route wraps the position in the
/// follow cursor it answers with, and erases both with the lines as it takes them.
enum Migration0026SiteLogPosition {
    static let migration = Migration(version: 26, name: "site_log_position", sql: """
        ALTER TABLE tasks ADD COLUMN result_log_position text CHECK (length(result_log_position) <= 64);
        ALTER TABLE tasks ADD COLUMN result_log_gap boolean NOT NULL DEFAULT false;
        """)
}
