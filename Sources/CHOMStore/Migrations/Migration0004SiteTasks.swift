/// Typed site tasks: a site's kind, configuration, TLS material and suspension; backups, their
/// schedules and the per-tenant backup keys; what a task acted on and reported.
enum Migration0004SiteTasks {
    static let migration = Migration(version: 4, name: "site_tasks", sql: """
        ALTER TABLE sites ADD COLUMN kind text NOT NULL DEFAULT 'static' CHECK (kind IN ('static', 'php', 'app'));
        -- SiteSettings as JSON (aliases, appPort, appCommand, sharedPaths, hooks, healthCheck, ...).
        ALTER TABLE sites ADD COLUMN config jsonb NOT NULL DEFAULT '{}';
        ALTER TABLE sites ADD COLUMN tls_certificate text;
        -- The private key, sealed with the coordinator's SecretBox (chomsec:v1:..., bound to the site).
        ALTER TABLE sites ADD COLUMN tls_key_sealed text;
        ALTER TABLE sites ADD COLUMN suspended boolean NOT NULL DEFAULT false;

        -- The backup a task makes, checks or restores; the release a deploy, rollback or restore
        -- made live (git deploys have no row in releases); the step a failed task stopped at.
        ALTER TABLE tasks ADD COLUMN backup_id uuid;
        ALTER TABLE tasks ADD COLUMN result_release_id uuid;
        ALTER TABLE tasks ADD COLUMN failed_step text;
        -- A suspend task: true suspends the site, false resumes it.
        ALTER TABLE tasks ADD COLUMN suspended boolean;
        -- The payload holds a TLS key, a backup key or a bucket secret: erased once the task is final.
        ALTER TABLE tasks ADD COLUMN carries_secret boolean NOT NULL DEFAULT false;
        CREATE INDEX tasks_site ON tasks (site_id, created_at);

        CREATE TABLE backups (
            id uuid PRIMARY KEY,
            site_id uuid NOT NULL REFERENCES sites(id),
            tenant_id uuid NOT NULL REFERENCES tenants(id),
            agent_id uuid REFERENCES agents(id),
            task_id uuid REFERENCES tasks(id),
            state text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'succeeded', 'failed')),
            object_key text,
            size_bytes bigint,
            duration_ms bigint,
            archive_sha256 text,
            file_count bigint,
            encrypted boolean NOT NULL DEFAULT false,
            created_at timestamptz NOT NULL,
            finished_at timestamptz,
            verified_at timestamptz,
            deleted_at timestamptz,
            message text
        );
        CREATE INDEX backups_site ON backups (site_id, created_at DESC, id DESC);

        CREATE TABLE backup_schedules (
            site_id uuid PRIMARY KEY REFERENCES sites(id),
            every_hours integer NOT NULL CHECK (every_hours BETWEEN 1 AND 8760),
            keep_last integer NOT NULL CHECK (keep_last >= 0),
            keep_daily integer NOT NULL CHECK (keep_daily >= 0),
            keep_weekly integer NOT NULL CHECK (keep_weekly >= 0),
            keep_monthly integer NOT NULL CHECK (keep_monthly >= 0),
            encrypt boolean NOT NULL DEFAULT true,
            next_run_at timestamptz NOT NULL,
            -- The newest backup a prune has been queued for.
            pruned_through timestamptz,
            updated_at timestamptz NOT NULL
        );

        CREATE TABLE tenant_backup_keys (
            tenant_id uuid PRIMARY KEY REFERENCES tenants(id),
            key_id text NOT NULL,
            -- 32 random bytes, sealed with the coordinator's SecretBox, bound to the tenant.
            sealed_key text NOT NULL,
            created_at timestamptz NOT NULL
        );
        """)
}
