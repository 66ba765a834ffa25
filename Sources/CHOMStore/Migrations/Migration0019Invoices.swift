/// Invoices (the issue "Billing"): one per organization and period, numbered without gaps per
/// issuer when finalized, immutable once finalized (corrections are credit notes, numbered in
/// their own gapless sequence).
enum Migration0019Invoices {
    static let migration = Migration(version: 19, name: "invoices", sql: """
        -- The next number of each issuer's sequences ('invoice', 'credit_note'). Taken and raised in
        -- the transaction that writes the document, so a rolled-back close leaves no gap.
        CREATE TABLE billing_counters (
            issuer text NOT NULL,
            sequence text NOT NULL CHECK (sequence IN ('invoice', 'credit_note')),
            next_number bigint NOT NULL CHECK (next_number >= 1),
            PRIMARY KEY (issuer, sequence)
        );

        CREATE TABLE invoices (
            id uuid PRIMARY KEY,
            organization_id uuid NOT NULL REFERENCES organizations(id),
            issuer text NOT NULL,
            number bigint NOT NULL CHECK (number >= 1),
            status text NOT NULL CHECK (status IN ('open', 'paid', 'void')),
            period_start timestamptz NOT NULL,
            period_end timestamptz NOT NULL CHECK (period_end > period_start),
            plan_code text NOT NULL,
            currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
            total_minor bigint NOT NULL,
            finalized_at timestamptz NOT NULL,
            paid_at timestamptz,
            stripe_invoice_id text,
            UNIQUE (organization_id, period_start),
            UNIQUE (issuer, number)
        );
        CREATE INDEX invoices_organization ON invoices (organization_id, period_start DESC);

        CREATE TABLE invoice_lines (
            invoice_id uuid NOT NULL REFERENCES invoices(id),
            position integer NOT NULL CHECK (position >= 0),
            kind text NOT NULL CHECK (kind IN ('base', 'proration', 'overage')),
            description text NOT NULL,
            meter text,
            quantity bigint NOT NULL,
            unit_price_minor bigint,
            amount_minor bigint NOT NULL,
            PRIMARY KEY (invoice_id, position)
        );

        CREATE TABLE credit_notes (
            id uuid PRIMARY KEY,
            invoice_id uuid NOT NULL REFERENCES invoices(id),
            issuer text NOT NULL,
            number bigint NOT NULL CHECK (number >= 1),
            amount_minor bigint NOT NULL CHECK (amount_minor > 0),
            currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
            reason text NOT NULL CHECK (length(reason) BETWEEN 1 AND 500),
            created_at timestamptz NOT NULL,
            UNIQUE (issuer, number)
        );
        CREATE INDEX credit_notes_invoice ON credit_notes (invoice_id);

        -- Finalized means fixed: an invoice's identity, period and amounts never change (only its
        -- payment state and the Stripe id may), and its lines and credit notes are never changed
        -- or removed.
        CREATE FUNCTION chom_invoice_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'UPDATE' AND TG_TABLE_NAME = 'invoices'
               AND (NEW.id, NEW.organization_id, NEW.issuer, NEW.number, NEW.period_start, NEW.period_end,
                    NEW.plan_code, NEW.currency, NEW.total_minor, NEW.finalized_at)
                   IS NOT DISTINCT FROM
                   (OLD.id, OLD.organization_id, OLD.issuer, OLD.number, OLD.period_start, OLD.period_end,
                    OLD.plan_code, OLD.currency, OLD.total_minor, OLD.finalized_at) THEN
                RETURN NEW;
            END IF;
            RAISE EXCEPTION 'a finalized invoice is immutable: % on % is refused (issue a credit note)', TG_OP, TG_TABLE_NAME
                USING ERRCODE = 'insufficient_privilege';
        END
        $$;
        CREATE TRIGGER invoices_immutable BEFORE UPDATE OR DELETE ON invoices
            FOR EACH ROW EXECUTE FUNCTION chom_invoice_immutable();
        CREATE TRIGGER invoice_lines_immutable BEFORE UPDATE OR DELETE ON invoice_lines
            FOR EACH ROW EXECUTE FUNCTION chom_invoice_immutable();
        CREATE TRIGGER credit_notes_immutable BEFORE UPDATE OR DELETE ON credit_notes
            FOR EACH ROW EXECUTE FUNCTION chom_invoice_immutable();
        CREATE TRIGGER invoices_no_truncate BEFORE TRUNCATE ON invoices
            FOR EACH STATEMENT EXECUTE FUNCTION chom_invoice_immutable();
        CREATE TRIGGER invoice_lines_no_truncate BEFORE TRUNCATE ON invoice_lines
            FOR EACH STATEMENT EXECUTE FUNCTION chom_invoice_immutable();
        CREATE TRIGGER credit_notes_no_truncate BEFORE TRUNCATE ON credit_notes
            FOR EACH STATEMENT EXECUTE FUNCTION chom_invoice_immutable();
        """)
}
