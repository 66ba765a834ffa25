/// Identity and tenancy: organizations, tenants, users, memberships, invitations, API tokens,
/// two-factor secrets, login challenges, and the append-only, hash-chained audit log.
enum Migration0003Identity {
    static let migration = Migration(version: 3, name: "identity", sql: """
        CREATE TABLE organizations (
            id uuid PRIMARY KEY,
            name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
            created_at timestamptz NOT NULL,
            updated_at timestamptz NOT NULL
        );

        CREATE TABLE tenants (
            id uuid PRIMARY KEY,
            organization_id uuid NOT NULL REFERENCES organizations(id),
            name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
            created_at timestamptz NOT NULL,
            UNIQUE (organization_id, name)
        );
        CREATE INDEX tenants_organization ON tenants (organization_id);

        CREATE TABLE users (
            id uuid PRIMARY KEY,
            email text NOT NULL UNIQUE CHECK (email = lower(email)),
            display_name text NOT NULL DEFAULT '',
            password_hash text NOT NULL,
            is_operator boolean NOT NULL DEFAULT false,
            created_at timestamptz NOT NULL,
            updated_at timestamptz NOT NULL
        );

        CREATE TABLE memberships (
            organization_id uuid NOT NULL REFERENCES organizations(id),
            user_id uuid NOT NULL REFERENCES users(id),
            role text NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
            -- Empty: every tenant of the organization.
            tenant_ids uuid[] NOT NULL DEFAULT '{}',
            created_at timestamptz NOT NULL,
            updated_at timestamptz NOT NULL,
            PRIMARY KEY (organization_id, user_id)
        );
        CREATE INDEX memberships_user ON memberships (user_id);

        CREATE TABLE invitations (
            id uuid PRIMARY KEY,
            organization_id uuid NOT NULL REFERENCES organizations(id),
            email text NOT NULL,
            role text NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
            tenant_ids uuid[] NOT NULL DEFAULT '{}',
            secret_sha256 bytea NOT NULL,
            invited_by uuid REFERENCES users(id),
            created_at timestamptz NOT NULL,
            expires_at timestamptz NOT NULL,
            accepted_at timestamptz,
            revoked_at timestamptz
        );
        CREATE INDEX invitations_organization ON invitations (organization_id);

        CREATE TABLE api_tokens (
            id uuid PRIMARY KEY,
            user_id uuid NOT NULL REFERENCES users(id),
            kind text NOT NULL CHECK (kind IN ('session', 'personal_access')),
            name text NOT NULL DEFAULT '',
            secret_sha256 bytea NOT NULL,
            -- NULL: everything the user's roles allow (session tokens).
            abilities text[],
            created_at timestamptz NOT NULL,
            expires_at timestamptz NOT NULL,
            revoked_at timestamptz,
            rotated_at timestamptz,
            last_used_at timestamptz
        );
        CREATE INDEX api_tokens_user ON api_tokens (user_id);

        CREATE TABLE two_factor (
            user_id uuid PRIMARY KEY REFERENCES users(id),
            -- AES-GCM sealed (SecretBox), carries its key id.
            secret_sealed text NOT NULL,
            confirmed_at timestamptz,
            last_used_step bigint,
            -- SHA-256 (hex) of the unused recovery codes.
            recovery_code_hashes text[] NOT NULL DEFAULT '{}',
            created_at timestamptz NOT NULL
        );

        CREATE TABLE login_challenges (
            id uuid PRIMARY KEY,
            user_id uuid NOT NULL REFERENCES users(id),
            secret_sha256 bytea NOT NULL,
            expires_at timestamptz NOT NULL,
            attempts integer NOT NULL DEFAULT 0,
            consumed_at timestamptz
        );

        ALTER TABLE sites ADD COLUMN tenant_id uuid REFERENCES tenants(id);
        CREATE INDEX sites_tenant ON sites (tenant_id);

        -- Sites from before tenancy move to one organization/tenant named "default".
        INSERT INTO organizations (id, name, created_at, updated_at)
            SELECT gen_random_uuid(), 'default', now(), now() WHERE EXISTS (SELECT 1 FROM sites);
        INSERT INTO tenants (id, organization_id, name, created_at)
            SELECT gen_random_uuid(), id, 'default', now() FROM organizations WHERE name = 'default';
        UPDATE sites SET tenant_id = (SELECT id FROM tenants WHERE name = 'default' LIMIT 1);
        ALTER TABLE sites ALTER COLUMN tenant_id SET NOT NULL;

        CREATE TABLE audit_entries (
            sequence bigint PRIMARY KEY CHECK (sequence > 0),
            time timestamptz NOT NULL,
            actor text NOT NULL,
            organization_id text,
            tenant_id text,
            action text NOT NULL,
            target text NOT NULL,
            request_id text NOT NULL,
            source_address text NOT NULL,
            -- JSON object of strings, kept as text so the canonical encoding reads back exactly.
            details text NOT NULL,
            previous_hash bytea NOT NULL,
            hash bytea NOT NULL
        );
        CREATE INDEX audit_entries_organization ON audit_entries (organization_id, sequence);
        CREATE INDEX audit_entries_action ON audit_entries (action, sequence);

        CREATE TABLE audit_checkpoints (
            sequence bigint PRIMARY KEY,
            head_hash bytea NOT NULL,
            time timestamptz NOT NULL,
            key_id text NOT NULL,
            signature bytea NOT NULL
        );

        CREATE FUNCTION chom_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'the audit log is append-only: % on % is refused', TG_OP, TG_TABLE_NAME
                USING ERRCODE = 'insufficient_privilege';
        END
        $$;
        CREATE TRIGGER audit_entries_append_only BEFORE UPDATE OR DELETE ON audit_entries
            FOR EACH ROW EXECUTE FUNCTION chom_audit_append_only();
        CREATE TRIGGER audit_entries_no_truncate BEFORE TRUNCATE ON audit_entries
            FOR EACH STATEMENT EXECUTE FUNCTION chom_audit_append_only();
        CREATE TRIGGER audit_checkpoints_append_only BEFORE UPDATE OR DELETE ON audit_checkpoints
            FOR EACH ROW EXECUTE FUNCTION chom_audit_append_only();
        CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON audit_checkpoints
            FOR EACH STATEMENT EXECUTE FUNCTION chom_audit_append_only();
        """)
}
