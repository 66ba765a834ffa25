/// `tasks.answered_resends`: re-sends the agent answers from its journal, which are no delivery
/// attempts, bounded on their own (`TaskRecord.answeredResendLimit`).
///
/// Audit entries staged by the transaction that makes their change, and moved into the hash chain
/// (`audit_entries`) right after it commits, many at a time, by `AuditLog.chainPending` under the
/// append lock. The change and its entry still commit together; the chain's lock is no longer held
/// by every write until its commit's fsync, so writes commit in parallel.
enum Migration0016AuditPending {
    static let migration = Migration(version: 16, name: "audit_pending", sql: """
        CREATE TABLE audit_pending (
            id bigserial PRIMARY KEY,
            time timestamptz NOT NULL,
            actor text NOT NULL,
            organization_id text,
            tenant_id text,
            action text NOT NULL,
            target text NOT NULL,
            request_id text NOT NULL,
            source_address text NOT NULL,
            details text NOT NULL
        );
        ALTER TABLE tasks ADD COLUMN answered_resends integer NOT NULL DEFAULT 0;
        -- Moved out by DELETE (the chainer); never rewritten or truncated.
        CREATE TRIGGER audit_pending_no_update BEFORE UPDATE ON audit_pending
            FOR EACH STATEMENT EXECUTE FUNCTION chom_audit_append_only();
        CREATE TRIGGER audit_pending_no_truncate BEFORE TRUNCATE ON audit_pending
            FOR EACH STATEMENT EXECUTE FUNCTION chom_audit_append_only();
        """)
}
