/// The sites an agent's last inventory reported at configuration version 0 (`agents.unfenced_sites`):
/// configured by an agent older than the fence, or of unknown version, so their nginx configuration
/// may lack the fence include. They do not fail over until reconciliation has configured them again
/// and an inventory shows it (Protocol/README.md, fencing).
enum Migration0017UnfencedSites {
    static let migration = Migration(version: 17, name: "unfenced_sites", sql: """
        ALTER TABLE agents ADD COLUMN unfenced_sites uuid[] NOT NULL DEFAULT '{}';
        """)
}
