/// The site-tree layout each agent has converged its sites to (`SiteLayoutCapability`): 1 for
/// agents from before the hostile-tenant layout, raised once the coordinator has queued a configure
/// task for every site of an agent that announced the new layout.
enum Migration0008SiteLayout {
    static let migration = Migration(version: 8, name: "agent_site_layout", sql: """
        ALTER TABLE agents ADD COLUMN site_layout integer NOT NULL DEFAULT 1;
        """)
}
