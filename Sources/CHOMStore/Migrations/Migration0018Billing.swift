/// Billing's ledger (the issue "Billing"): operators' plans, one subscription per organization, and
/// the append-only hourly usage the agents report. Limits are NULL for "unlimited".
enum Migration0018Billing {
    static let migration = Migration(version: 18, name: "billing", sql: """
        CREATE TABLE billing_plans (
            code text PRIMARY KEY CHECK (code ~ '^[a-z0-9][a-z0-9._-]{0,62}$'),
            name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
            currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
            monthly_price_minor bigint NOT NULL CHECK (monthly_price_minor >= 0),
            included_sites bigint CHECK (included_sites >= 0),
            included_storage_gb bigint CHECK (included_storage_gb >= 0),
            included_bandwidth_gb bigint CHECK (included_bandwidth_gb >= 0),
            included_backup_gb bigint CHECK (included_backup_gb >= 0),
            included_members bigint CHECK (included_members >= 0),
            -- At or over this (kept backups, in GB), new backups are refused.
            storage_hard_limit_gb bigint CHECK (storage_hard_limit_gb >= 0),
            -- Per meter (site_hours, storage_byte_hours, bandwidth_bytes, backup_byte_hours): the
            -- price in minor units of one plan unit over the included amount.
            overage jsonb NOT NULL DEFAULT '{}',
            trial_days integer NOT NULL DEFAULT 0 CHECK (trial_days BETWEEN 0 AND 365),
            stripe_price_id text,
            archived boolean NOT NULL DEFAULT false,
            created_at timestamptz NOT NULL,
            updated_at timestamptz NOT NULL
        );

        CREATE TABLE billing_subscriptions (
            organization_id uuid PRIMARY KEY REFERENCES organizations(id),
            plan_code text NOT NULL REFERENCES billing_plans(code),
            status text NOT NULL CHECK (status IN ('trialing', 'active', 'past_due', 'suspended', 'canceled')),
            period_start timestamptz NOT NULL,
            period_end timestamptz NOT NULL CHECK (period_end > period_start),
            trial_ends_at timestamptz,
            grace_ends_at timestamptz,
            cancel_at_period_end boolean NOT NULL DEFAULT false,
            -- The plan whose base fee this period carries: the plan at the period's start (a change
            -- with immediate effect adds proration lines instead).
            period_plan_code text NOT NULL REFERENCES billing_plans(code),
            -- A change that takes effect at the period's end.
            pending_plan_code text REFERENCES billing_plans(code),
            stripe_customer_id text,
            stripe_subscription_id text,
            created_at timestamptz NOT NULL,
            updated_at timestamptz NOT NULL
        );
        CREATE INDEX billing_subscriptions_plan ON billing_subscriptions (plan_code);

        -- Lines waiting for the period's invoice: a plan change's proration credit and charge.
        CREATE TABLE billing_adjustments (
            id uuid PRIMARY KEY,
            organization_id uuid NOT NULL REFERENCES organizations(id),
            period_start timestamptz NOT NULL,
            kind text NOT NULL CHECK (kind IN ('proration_credit', 'proration_charge')),
            description text NOT NULL,
            seconds bigint NOT NULL CHECK (seconds >= 0),
            amount_minor bigint NOT NULL,
            currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
            created_at timestamptz NOT NULL
        );
        CREATE INDEX billing_adjustments_organization ON billing_adjustments (organization_id, period_start);

        -- Append-only: a sample's hour shares, counted once per (agent, sequence) however often the
        -- sample arrives. Site, tenant and organization are copied in so that a removed or moved
        -- site's usage stays where it was measured.
        CREATE TABLE usage_hourly (
            agent_id uuid NOT NULL,
            sequence bigint NOT NULL,
            hour timestamptz NOT NULL CHECK (date_trunc('hour', hour) = hour),
            meter text NOT NULL CHECK (meter IN ('site_hours', 'storage_byte_hours', 'bandwidth_bytes', 'backup_byte_hours')),
            quantity bigint NOT NULL CHECK (quantity >= 0),
            site_id uuid NOT NULL,
            tenant_id uuid NOT NULL,
            organization_id uuid NOT NULL,
            recorded_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (agent_id, sequence, hour, meter)
        );
        CREATE INDEX usage_hourly_organization ON usage_hourly (organization_id, hour);
        CREATE FUNCTION chom_usage_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'usage is append-only: % on % is refused', TG_OP, TG_TABLE_NAME
                USING ERRCODE = 'insufficient_privilege';
        END
        $$;
        CREATE TRIGGER usage_hourly_append_only BEFORE UPDATE OR DELETE ON usage_hourly
            FOR EACH ROW EXECUTE FUNCTION chom_usage_append_only();
        CREATE TRIGGER usage_hourly_no_truncate BEFORE TRUNCATE ON usage_hourly
            FOR EACH STATEMENT EXECUTE FUNCTION chom_usage_append_only();
        """)
}
