/// Failover per site: `sites.failover_enabled` (on unless an operator turned it off). A site with
/// it off never fails over, and its agent's fence leaves it served (`SiteConfig.fence_exempt`).
enum Migration0015SiteFailover {
    static let migration = Migration(version: 15, name: "site_failover", sql: """
        ALTER TABLE sites ADD COLUMN failover_enabled boolean NOT NULL DEFAULT true;
        """)
}
