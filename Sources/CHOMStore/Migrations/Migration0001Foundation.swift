/// The foundation slice: agents, join tokens, sites, releases, tasks.
enum Migration0001Foundation {
    static let migration = Migration(version: 1, name: "foundation", sql: """
        CREATE TABLE join_tokens (
            id uuid PRIMARY KEY,
            secret_sha256 bytea NOT NULL,
            description text NOT NULL DEFAULT '',
            max_uses integer NOT NULL CHECK (max_uses > 0),
            uses integer NOT NULL DEFAULT 0,
            expires_at timestamptz NOT NULL,
            created_at timestamptz NOT NULL,
            revoked_at timestamptz
        );

        CREATE TABLE agents (
            id uuid PRIMARY KEY,
            name text NOT NULL,
            state text NOT NULL DEFAULT 'enrolled'
                CHECK (state IN ('enrolled', 'online', 'offline', 'deleted')),
            certificate_serial text NOT NULL,
            certificate_not_after timestamptz NOT NULL,
            join_token_id uuid REFERENCES join_tokens(id),
            agent_version text NOT NULL DEFAULT '',
            host_facts jsonb NOT NULL DEFAULT '{}',
            max_sites integer NOT NULL DEFAULT 50,
            reported_sites integer NOT NULL DEFAULT 0,
            next_sequence bigint NOT NULL DEFAULT 1,
            last_heartbeat_at timestamptz,
            enrolled_at timestamptz NOT NULL,
            deleted_at timestamptz
        );

        CREATE TABLE join_token_uses (
            id bigserial PRIMARY KEY,
            join_token_id uuid REFERENCES join_tokens(id),
            used_at timestamptz NOT NULL,
            source_address text NOT NULL DEFAULT '',
            outcome text NOT NULL,
            agent_id uuid REFERENCES agents(id)
        );

        CREATE TABLE sites (
            id uuid PRIMARY KEY,
            domain text NOT NULL UNIQUE,
            agent_id uuid REFERENCES agents(id),
            state text NOT NULL DEFAULT 'created',
            current_release_id uuid,
            current_release_path text,
            created_at timestamptz NOT NULL,
            updated_at timestamptz NOT NULL
        );
        CREATE INDEX sites_agent ON sites (agent_id);

        CREATE TABLE releases (
            id uuid PRIMARY KEY,
            site_id uuid NOT NULL REFERENCES sites(id),
            sha256 text NOT NULL,
            size_bytes bigint NOT NULL,
            format text NOT NULL CHECK (format IN ('tar.zst', 'tar.gz')),
            created_at timestamptz NOT NULL
        );

        -- Artifacts are stored in 1 MiB chunks so that uploads and downloads stream.
        CREATE TABLE release_chunks (
            release_id uuid NOT NULL REFERENCES releases(id) ON DELETE CASCADE,
            index integer NOT NULL,
            data bytea NOT NULL,
            PRIMARY KEY (release_id, index)
        );

        CREATE TABLE tasks (
            id uuid PRIMARY KEY,
            agent_id uuid NOT NULL REFERENCES agents(id),
            site_id uuid REFERENCES sites(id),
            release_id uuid REFERENCES releases(id),
            kind text NOT NULL,
            payload bytea NOT NULL,
            state text NOT NULL DEFAULT 'queued'
                CHECK (state IN ('queued', 'sent', 'accepted', 'succeeded', 'failed')),
            sequence bigint,
            envelope bytea,
            envelope_expires_at timestamptz,
            attempts integer NOT NULL DEFAULT 0,
            max_attempts integer NOT NULL,
            progress_step text,
            progress_log text,
            result_message text,
            release_path text,
            created_at timestamptz NOT NULL,
            sent_at timestamptz,
            accepted_at timestamptz,
            finished_at timestamptz,
            updated_at timestamptz NOT NULL
        );
        CREATE INDEX tasks_open_by_agent ON tasks (agent_id, created_at)
            WHERE state IN ('queued', 'sent', 'accepted');
        """)
}
