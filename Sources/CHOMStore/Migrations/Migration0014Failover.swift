/// Failover, a migration whose source agent was declared failed:
/// - `site_migrations.reason` may be `failover`;
/// - `source_failed_at`: when the failure detector declared the source failed (recovery time runs
///   from it to `switched_at`);
/// - `backup_taken_at`: when the backup it restores from finished (the recovery point is
///   `source_failed_at - backup_taken_at`), and `backup_verified`: whether a drill had verified it.
enum Migration0014Failover {
    static let migration = Migration(version: 14, name: "failover", sql: """
        ALTER TABLE site_migrations DROP CONSTRAINT site_migrations_reason_check;
        ALTER TABLE site_migrations ADD CONSTRAINT site_migrations_reason_check
            CHECK (reason IN ('manual', 'drain', 'rebalance', 'failover'));
        ALTER TABLE site_migrations ADD COLUMN source_failed_at timestamptz;
        ALTER TABLE site_migrations ADD COLUMN backup_taken_at timestamptz;
        ALTER TABLE site_migrations ADD COLUMN backup_verified boolean;
        """)
}
