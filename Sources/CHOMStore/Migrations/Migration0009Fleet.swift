/// The fleet: each agent's scheduling state (independent of its health in `state`), labels, the
/// addresses its sites are reached at and the capabilities it announced (the site kinds it hosts);
/// per-site resource requests overriding the kind's defaults; and site migrations, one row per
/// move, advanced step by step by the leader's migration runner.
enum Migration0009Fleet {
    static let migration = Migration(version: 9, name: "fleet", sql: """
        ALTER TABLE agents ADD COLUMN scheduling text NOT NULL DEFAULT 'schedulable'
            CHECK (scheduling IN ('schedulable', 'cordoned', 'draining', 'drained'));
        ALTER TABLE agents ADD COLUMN labels jsonb NOT NULL DEFAULT '{}'::jsonb;
        ALTER TABLE agents ADD COLUMN public_addresses text[] NOT NULL DEFAULT '{}';
        ALTER TABLE agents ADD COLUMN http_port integer NOT NULL DEFAULT 80;
        ALTER TABLE agents ADD COLUMN capabilities text[] NOT NULL DEFAULT '{}';
        ALTER TABLE sites ADD COLUMN requests jsonb;
        CREATE TABLE site_migrations (
            id uuid PRIMARY KEY,
            site_id uuid NOT NULL REFERENCES sites(id),
            from_agent uuid NOT NULL REFERENCES agents(id),
            to_agent uuid NOT NULL REFERENCES agents(id),
            reason text NOT NULL CHECK (reason IN ('manual', 'drain', 'rebalance')),
            state text NOT NULL,
            step text NOT NULL,
            -- The task the current step waits for, if any.
            task_id uuid REFERENCES tasks(id),
            backup_id uuid,
            failed_step text,
            message text NOT NULL DEFAULT '',
            -- When the site switched to to_agent (DNS and placement); the proxy on from_agent ends
            -- once the DNS TTL has passed after it.
            switched_at timestamptz,
            maintenance_started_at timestamptz,
            maintenance_ended_at timestamptz,
            requested_by text NOT NULL DEFAULT '',
            created_at timestamptz NOT NULL,
            updated_at timestamptz NOT NULL,
            finished_at timestamptz
        );
        CREATE UNIQUE INDEX site_migrations_one_open ON site_migrations (site_id) WHERE finished_at IS NULL;
        CREATE INDEX site_migrations_open ON site_migrations (created_at) WHERE finished_at IS NULL;
        """)
}
