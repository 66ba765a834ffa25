/// The lines an agent read from a site's log (`read_site_logs` tasks): kept on the task row only
/// until the route that asked takes them (`ScopedSiteRepository.takeSiteLogs`), which erases them.
enum Migration0007SiteLogLines {
    static let migration = Migration(version: 7, name: "site_log_lines", sql: """
        ALTER TABLE tasks ADD COLUMN result_lines text[];
        ALTER TABLE tasks ADD COLUMN result_truncated boolean NOT NULL DEFAULT false;
        """)
}
