/// Reconciliation of what agents hold with what the coordinator placed:
/// - `agent_reports`: every numbered report an agent sends (`stream` names the kind: `inventory`,
///   later `usage`), so that a report that arrives twice (reconnects, replays, several replicas)
///   is applied once. Inventories keep only their newest row per agent; usage reports will keep
///   theirs until they are folded into buckets.
/// - `sites.config_version`: raised with every change of the site's configuration, sent in every
///   `SiteConfig` and reported back by the agent, so an outdated copy is seen.
/// - `sites.placed_at`: when the site was placed on its current agent (set by a trigger whenever
///   `agent_id` changes, whoever changes it); the stale copy left on a previous agent is removed
///   only once the DNS grace has passed after it.
/// - `backups.purpose`: `stale_copy` for the backup taken before such a copy is removed. Never
///   restored, migrated or failed over from (and outside retention and "latest backup").
enum Migration0012Inventory {
    static let migration = Migration(version: 12, name: "inventory", sql: """
        CREATE TABLE agent_reports (
            agent_id uuid NOT NULL REFERENCES agents(id),
            stream text NOT NULL,
            sequence bigint NOT NULL,
            received_at timestamptz NOT NULL,
            PRIMARY KEY (agent_id, stream, sequence)
        );

        ALTER TABLE sites ADD COLUMN config_version bigint NOT NULL DEFAULT 1;
        ALTER TABLE sites ADD COLUMN placed_at timestamptz;
        UPDATE sites SET placed_at = created_at;
        ALTER TABLE sites ALTER COLUMN placed_at SET NOT NULL;
        CREATE FUNCTION chom_sites_placed_at() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'INSERT' THEN
                NEW.placed_at := COALESCE(NEW.placed_at, NEW.created_at);
            ELSIF NEW.agent_id IS DISTINCT FROM OLD.agent_id AND NEW.placed_at IS NOT DISTINCT FROM OLD.placed_at THEN
                NEW.placed_at := now();
            END IF;
            RETURN NEW;
        END
        $$;
        CREATE TRIGGER sites_placed_at BEFORE INSERT OR UPDATE OF agent_id ON sites
            FOR EACH ROW EXECUTE FUNCTION chom_sites_placed_at();

        ALTER TABLE backups ADD COLUMN purpose text NOT NULL DEFAULT 'regular'
            CHECK (purpose IN ('regular', 'stale_copy'));
        """)
}
