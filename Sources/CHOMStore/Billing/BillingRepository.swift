package import CHOMCore
package import Foundation
import Logging
import PostgresNIO

/// Billing's ledger: plans, one subscription per organization, pending adjustments and the
/// append-only hourly usage (Migration0018Billing).
package struct BillingRepository: Sendable {
    let client: PostgresClient
    let logger: Logger

    private static let planColumns = """
        code, name, currency, monthly_price_minor, included_sites, included_storage_gb, included_bandwidth_gb,
        included_backup_gb, included_members, storage_hard_limit_gb, overage::text AS overage, trial_days,
        stripe_price_id, archived, created_at, updated_at
        """

    // MARK: Plans

    package func plans(includeArchived: Bool = true) async throws -> [PlanRecord] {
        try await decodePlans(client.query("""
            SELECT \(unescaped: Self.planColumns) FROM billing_plans WHERE (\(includeArchived) OR NOT archived) ORDER BY code
            """, logger: logger))
    }

    package func plan(_ code: String) async throws -> PlanRecord? {
        try await decodePlans(client.query(
            "SELECT \(unescaped: Self.planColumns) FROM billing_plans WHERE code = \(code)", logger: logger)).first
    }

    package func plan(_ code: String, in transaction: AuditedTransaction) async throws -> PlanRecord? {
        try await decodePlans(transaction.connection.query(
            "SELECT \(unescaped: Self.planColumns) FROM billing_plans WHERE code = \(code)", logger: logger)).first
    }

    /// Adds a plan; a plan with the same code is a conflict.
    package func createPlan(_ record: PlanRecord, in transaction: AuditedTransaction) async throws {
        guard try await plan(record.code, in: transaction) == nil else {
            throw CHOMError(.conflict, "a plan with the code \(record.code) exists")
        }
        try await insertPlan(record, on: transaction.connection, ifAbsent: false)
    }

    /// Replaces a plan's terms (its code stays). Subscribers keep their periods; the new terms apply
    /// from the next invoice.
    package func updatePlan(_ record: PlanRecord, in transaction: AuditedTransaction) async throws -> Bool {
        let p = record.plan
        let rows = try await transaction.connection.query("""
            UPDATE billing_plans SET name = \(record.name), currency = \(p.monthlyPrice.currency),
                monthly_price_minor = \(p.monthlyPrice.minor), included_sites = \(Self.limit(p.includedSites)),
                included_storage_gb = \(Self.limit(p.includedStorageGB)),
                included_bandwidth_gb = \(Self.limit(p.includedBandwidthGB)),
                included_backup_gb = \(Self.limit(p.includedBackupGB)), included_members = \(Self.limit(p.includedMembers)),
                storage_hard_limit_gb = \(Self.limit(record.storageHardLimitGB)),
                overage = \(try Self.overageJSON(p.overage))::jsonb, trial_days = \(p.trialDays),
                stripe_price_id = \(record.stripePriceID), archived = \(record.archived), updated_at = \(record.updatedAt)
            WHERE code = \(p.code) RETURNING code
            """, logger: logger)
        for try await _ in rows { return true }
        return false
    }

    /// The configured default plan, created when no plan has its code (an operator's later edits stay).
    package func ensurePlan(_ record: PlanRecord) async throws {
        try await client.withConnection { connection in
            try await insertPlan(record, on: connection, ifAbsent: true)
        }
    }

    private func insertPlan(_ record: PlanRecord, on connection: PostgresConnection, ifAbsent: Bool) async throws {
        let p = record.plan
        try await connection.query("""
            INSERT INTO billing_plans (code, name, currency, monthly_price_minor, included_sites, included_storage_gb,
                included_bandwidth_gb, included_backup_gb, included_members, storage_hard_limit_gb, overage, trial_days,
                stripe_price_id, archived, created_at, updated_at)
            VALUES (\(p.code), \(record.name), \(p.monthlyPrice.currency), \(p.monthlyPrice.minor),
                \(Self.limit(p.includedSites)), \(Self.limit(p.includedStorageGB)), \(Self.limit(p.includedBandwidthGB)),
                \(Self.limit(p.includedBackupGB)), \(Self.limit(p.includedMembers)),
                \(Self.limit(record.storageHardLimitGB)), \(try Self.overageJSON(p.overage))::jsonb, \(p.trialDays),
                \(record.stripePriceID), \(record.archived), \(record.createdAt), \(record.updatedAt))
            ON CONFLICT (code) DO \(unescaped: ifAbsent ? "NOTHING" : "UPDATE SET code = EXCLUDED.code WHERE false")
            """, logger: logger)
    }

    // MARK: Subscriptions

    /// Gives every organization without a subscription one on `plan`, starting now (the default
    /// plan when billing arrives). Returns the organizations it subscribed.
    package func subscribeMissing(plan: PlanRecord, now: Date, in transaction: AuditedTransaction) async throws
        -> [OrganizationID]
    {
        let period = BillingCalendar.firstPeriod(startingAt: now)
        let (status, trialEnds) = Self.start(plan, now: now)
        let rows = try await transaction.connection.query("""
            INSERT INTO billing_subscriptions (organization_id, plan_code, status, period_start, period_end,
                period_plan_code, trial_ends_at, created_at, updated_at)
            SELECT o.id, \(plan.code), \(status.rawValue), \(period.start), \(period.end), \(plan.code), \(trialEnds),
                \(now), \(now)
            FROM organizations o WHERE NOT EXISTS (SELECT 1 FROM billing_subscriptions s WHERE s.organization_id = o.id)
            ON CONFLICT (organization_id) DO NOTHING
            RETURNING organization_id
            """, logger: logger)
        var made: [OrganizationID] = []
        for try await id in rows.decode(UUID.self) { made.append(OrganizationID(id)) }
        return made
    }

    /// Whether some organization has no subscription yet.
    package func anyUnsubscribed() async throws -> Bool {
        let rows = try await client.query("""
            SELECT 1 FROM organizations o
            WHERE NOT EXISTS (SELECT 1 FROM billing_subscriptions s WHERE s.organization_id = o.id) LIMIT 1
            """, logger: logger)
        for try await _ in rows { return true }
        return false
    }

    /// The organization's subscription, made on `plan` if it has none, and locked for the rest of
    /// the transaction: quota checks and plan changes of one organization run one at a time.
    package func lockSubscription(
        _ organization: OrganizationID, defaultPlan plan: PlanRecord, now: Date, in transaction: AuditedTransaction
    ) async throws -> SubscriptionRecord {
        let period = BillingCalendar.firstPeriod(startingAt: now)
        let (status, trialEnds) = Self.start(plan, now: now)
        try await transaction.connection.query("""
            INSERT INTO billing_subscriptions (organization_id, plan_code, status, period_start, period_end,
                period_plan_code, trial_ends_at, created_at, updated_at)
            VALUES (\(organization.uuid), \(plan.code), \(status.rawValue), \(period.start), \(period.end), \(plan.code),
                \(trialEnds), \(now), \(now))
            ON CONFLICT (organization_id) DO NOTHING
            """, logger: logger)
        let rows = try await transaction.connection.query(
            "SELECT * FROM billing_subscriptions WHERE organization_id = \(organization.uuid) FOR UPDATE", logger: logger)
        for try await row in rows { return try Self.decodeSubscription(row.makeRandomAccess()) }
        throw CHOMError(.notFound, "no organization \(organization)")
    }

    package func subscription(_ organization: OrganizationID) async throws -> SubscriptionRecord? {
        let rows = try await client.query(
            "SELECT * FROM billing_subscriptions WHERE organization_id = \(organization.uuid)", logger: logger)
        for try await row in rows { return try Self.decodeSubscription(row.makeRandomAccess()) }
        return nil
    }

    /// Writes a subscription's changed fields (its organization is the key).
    package func save(_ s: SubscriptionRecord, in transaction: AuditedTransaction) async throws {
        try await transaction.connection.query("""
            UPDATE billing_subscriptions SET plan_code = \(s.planCode), status = \(s.status.rawValue),
                period_start = \(s.period.start), period_end = \(s.period.end), period_plan_code = \(s.periodPlanCode),
                trial_ends_at = \(s.trialEndsAt), grace_ends_at = \(s.graceEndsAt),
                cancel_at_period_end = \(s.cancelAtPeriodEnd), pending_plan_code = \(s.pendingPlanCode),
                stripe_customer_id = \(s.stripeCustomerID), stripe_subscription_id = \(s.stripeSubscriptionID),
                updated_at = \(s.updatedAt)
            WHERE organization_id = \(s.organizationID.uuid)
            """, logger: logger)
    }

    package func addAdjustments(
        _ adjustments: [BillingAdjustment], organization: OrganizationID, period: DateInterval,
        in transaction: AuditedTransaction
    ) async throws {
        for a in adjustments {
            try await transaction.connection.query("""
                INSERT INTO billing_adjustments (id, organization_id, period_start, kind, description, seconds,
                    amount_minor, currency, created_at)
                VALUES (\(a.id), \(organization.uuid), \(period.start), \(a.kind.rawValue), \(a.description), \(a.seconds),
                    \(a.amount.minor), \(a.amount.currency), \(a.createdAt))
                """, logger: logger)
        }
    }

    package func adjustments(_ organization: OrganizationID, period: DateInterval) async throws -> [BillingAdjustment] {
        try await client.withConnection { try await adjustments(organization, period: period, on: $0) }
    }

    package func adjustments(_ organization: OrganizationID, period: DateInterval, in transaction: AuditedTransaction)
        async throws -> [BillingAdjustment]
    {
        try await adjustments(organization, period: period, on: transaction.connection)
    }

    private func adjustments(_ organization: OrganizationID, period: DateInterval, on connection: PostgresConnection)
        async throws -> [BillingAdjustment]
    {
        let rows = try await connection.query("""
            SELECT id, kind, description, seconds, amount_minor, currency, created_at FROM billing_adjustments
            WHERE organization_id = \(organization.uuid) AND period_start = \(period.start)
            ORDER BY created_at, kind DESC, id  -- a change's credit, then its charge
            """, logger: logger)
        var result: [BillingAdjustment] = []
        for try await row in rows {
            let r = row.makeRandomAccess()
            guard let kind = BillingAdjustment.Kind(rawValue: try r.value("kind", as: String.self)) else {
                throw CHOMError(.integrity, "unknown billing adjustment kind")
            }
            result.append(BillingAdjustment(
                id: try r.value("id"), kind: kind, description: try r.value("description"), seconds: try r.value("seconds"),
                amount: try Money(minor: try r.value("amount_minor"), currency: try r.value("currency")),
                createdAt: try r.value("created_at")))
        }
        return result
    }

    // MARK: Dunning

    /// Past-due subscriptions whose grace has ended by `now`.
    package func graceEnded(now: Date, limit: Int = 500) async throws -> [OrganizationID] {
        let rows = try await client.query("""
            SELECT organization_id FROM billing_subscriptions
            WHERE status = 'past_due' AND (grace_ends_at IS NULL OR grace_ends_at <= \(now))
            ORDER BY organization_id LIMIT \(limit)
            """, logger: logger)
        var due: [OrganizationID] = []
        for try await id in rows.decode(UUID.self) { due.append(OrganizationID(id)) }
        return due
    }

    /// Live, placed sites whose billing suspension is not what their organization's subscription
    /// asks: suspended and not held for billing (`true`: to suspend), or held for billing while the
    /// subscription is trialing, active or past due (`false`: to lift). A canceled subscription's
    /// sites keep what they have.
    package func sitesOutOfStep(limit: Int = 500) async throws -> [(SiteID, suspend: Bool)] {
        let rows = try await client.query("""
            SELECT s.id, b.status = 'suspended' FROM sites s
                JOIN tenants t ON t.id = s.tenant_id
                JOIN billing_subscriptions b ON b.organization_id = t.organization_id
            WHERE s.state NOT IN ('removing', 'removed') AND s.agent_id IS NOT NULL
              AND ((b.status = 'suspended' AND NOT ('billing' = ANY(s.suspension_reasons)))
                OR (b.status IN ('trialing', 'active', 'past_due') AND 'billing' = ANY(s.suspension_reasons)))
            ORDER BY s.id LIMIT \(limit)
            """, logger: logger)
        var sites: [(SiteID, suspend: Bool)] = []
        for try await (id, suspend) in rows.decode((UUID, Bool).self) { sites.append((SiteID(id), suspend)) }
        return sites
    }

    // MARK: What the quotas count

    /// Live sites of the organization: neither removing nor removed.
    package func siteCount(_ organization: OrganizationID, in transaction: AuditedTransaction) async throws -> Int64 {
        try await count(transaction.connection.query("""
            SELECT count(*) FROM sites s JOIN tenants t ON t.id = s.tenant_id
            WHERE t.organization_id = \(organization.uuid) AND s.state NOT IN ('removing', 'removed')
            """, logger: logger))
    }

    /// Members plus open invitations (neither accepted, revoked nor expired).
    package func memberCount(_ organization: OrganizationID, now: Date, in transaction: AuditedTransaction) async throws
        -> Int64
    {
        try await count(transaction.connection.query("""
            SELECT (SELECT count(*) FROM memberships WHERE organization_id = \(organization.uuid))
                 + (SELECT count(*) FROM invitations WHERE organization_id = \(organization.uuid)
                    AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > \(now))
            """, logger: logger))
    }

    /// Bytes of the organization's kept backups (succeeded, not deleted). Site disk joins this when
    /// the agents report it.
    package func storageBytes(_ organization: OrganizationID, in transaction: AuditedTransaction) async throws -> Int64 {
        try await count(transaction.connection.query("""
            SELECT coalesce(sum(b.size_bytes), 0)::bigint FROM backups b JOIN tenants t ON t.id = b.tenant_id
            WHERE t.organization_id = \(organization.uuid) AND b.state = 'succeeded' AND b.deleted_at IS NULL
            """, logger: logger))
    }

    /// What the quotas count, read in one snapshot (nothing is written).
    package func counts(_ organization: OrganizationID, now: Date) async throws
        -> (sites: Int64, members: Int64, storageBytes: Int64)
    {
        try await client.transaction(logger: logger) { connection in
            try await connection.query("SET TRANSACTION READ ONLY ISOLATION LEVEL REPEATABLE READ", logger: logger)
            let transaction = AuditedTransaction(connection: connection, logger: logger)
            return (
                try await siteCount(organization, in: transaction),
                try await memberCount(organization, now: now, in: transaction),
                try await storageBytes(organization, in: transaction))
        }
    }

    // MARK: Usage

    /// Appends usage rows; a row whose (agent, sequence, hour, meter) is already stored is skipped,
    /// so a sample sent twice counts once. Returns how many rows were new.
    @discardableResult
    package func append(_ rows: [UsageRow]) async throws -> Int {
        guard !rows.isEmpty else { return 0 }
        let result = try await client.query("""
            INSERT INTO usage_hourly (agent_id, sequence, hour, meter, quantity, site_id, tenant_id, organization_id)
            SELECT a, q, to_timestamp(h), m, n, s, t, o
            FROM unnest(\(rows.map(\.key.agent))::uuid[], \(rows.map(\.key.sequence))::bigint[],
                        \(rows.map { Int64($0.hour.timeIntervalSince1970) })::bigint[], \(rows.map(\.meter.rawValue))::text[],
                        \(rows.map(\.quantity))::bigint[], \(rows.map(\.site.uuid))::uuid[], \(rows.map(\.tenant.uuid))::uuid[],
                        \(rows.map(\.organization.uuid))::uuid[]) AS u(a, q, h, m, n, s, t, o)
            ON CONFLICT (agent_id, sequence, hour, meter) DO NOTHING
            RETURNING 1
            """, logger: logger)
        var inserted = 0
        for try await _ in result { inserted += 1 }
        return inserted
    }

    /// The tenant and organization of each of `sites` placed on `agent` now (a site elsewhere, or
    /// unknown, is left out: an agent reports usage for the sites it hosts).
    package func owners(of sites: [SiteID], on agent: AgentID) async throws -> [SiteID: (TenantID, OrganizationID)] {
        guard !sites.isEmpty else { return [:] }
        let rows = try await client.query("""
            SELECT s.id, s.tenant_id, t.organization_id FROM sites s JOIN tenants t ON t.id = s.tenant_id
            WHERE s.id = ANY(\(sites.map(\.uuid))) AND s.agent_id = \(agent.uuid)
            """, logger: logger)
        var owners: [SiteID: (TenantID, OrganizationID)] = [:]
        for try await (site, tenant, organization) in rows.decode((UUID, UUID, UUID).self) {
            owners[SiteID(site)] = (TenantID(tenant), OrganizationID(organization))
        }
        return owners
    }

    /// The organization's metered totals for the hours in `period`.
    package func usage(_ organization: OrganizationID, period: DateInterval) async throws -> [Meter: Int64] {
        try await client.withConnection { try await usage(organization, period: period, on: $0) }
    }

    package func usage(_ organization: OrganizationID, period: DateInterval, in transaction: AuditedTransaction)
        async throws -> [Meter: Int64]
    {
        try await usage(organization, period: period, on: transaction.connection)
    }

    private func usage(_ organization: OrganizationID, period: DateInterval, on connection: PostgresConnection)
        async throws -> [Meter: Int64]
    {
        // Summed as numeric and clamped (a hostile agent's huge samples cannot overflow the sum and
        // stop the close); site-hours count each site's hour once, however many samples claim it.
        let rows = try await connection.query("""
            SELECT meter, least(CASE WHEN meter = 'site_hours' THEN count(DISTINCT (site_id, hour))::numeric
                                     ELSE sum(quantity::numeric) END, 9223372036854775807)::bigint AS total
            FROM usage_hourly
            WHERE organization_id = \(organization.uuid) AND hour >= \(period.start) AND hour < \(period.end)
            GROUP BY meter
            """, logger: logger)
        var totals: [Meter: Int64] = [:]
        for try await (meter, total) in rows.decode((String, Int64).self) {
            if let meter = Meter(rawValue: meter) { totals[meter] = total }
        }
        // Backups are metered here, from what the ledger knows: each kept backup's bytes for every
        // second of the period between its end and its deletion, rounded once for the period.
        let backups = try await connection.query("""
            SELECT least(coalesce(sum(b.size_bytes::numeric * extract(epoch FROM
                       least(coalesce(b.deleted_at, \(period.end)), \(period.end)) - greatest(b.finished_at, \(period.start)))
                   ), 0) / 3600, 9223372036854775807)::bigint
            FROM backups b JOIN tenants t ON t.id = b.tenant_id
            WHERE t.organization_id = \(organization.uuid) AND b.state = 'succeeded' AND b.size_bytes > 0
              AND b.finished_at < \(period.end) AND (b.deleted_at IS NULL OR b.deleted_at > \(period.start))
            """, logger: logger)
        for try await byteHours in backups.decode(Int64.self) where byteHours > 0 {
            totals[.backupByteHours] = byteHours
        }
        return totals
    }

    // MARK: Coding

    /// How a plan's limit is stored: NULL for "unlimited" (Int64.max).
    static func limit(_ value: Int64) -> Int64? { value == .max ? nil : value }

    static func overageJSON(_ overage: [Meter: Money]) throws -> String {
        let minor = Dictionary(uniqueKeysWithValues: overage.map { ($0.key.rawValue, $0.value.minor) })
        return String(decoding: try JSONEncoder().encode(minor), as: UTF8.self)
    }

    /// A new subscription on `plan`: trialing for its trial days, else active.
    static func start(_ plan: PlanRecord, now: Date) -> (SubscriptionStatus, Date?) {
        plan.plan.trialDays > 0
            ? (.trialing, now.addingTimeInterval(Double(plan.plan.trialDays) * 86_400)) : (.active, nil)
    }

    private func count(_ rows: PostgresRowSequence) async throws -> Int64 {
        for try await (count) in rows.decode(Int64.self) { return count }
        return 0
    }

    private func decodePlans(_ rows: PostgresRowSequence) async throws -> [PlanRecord] {
        var plans: [PlanRecord] = []
        for try await row in rows { plans.append(try Self.decodePlan(row.makeRandomAccess())) }
        return plans
    }

    static func decodePlan(_ r: PostgresRandomAccessRow) throws -> PlanRecord {
        let currency: String = try r.value("currency")
        let overageMinor = try JSONDecoder().decode(
            [String: Int64].self, from: Data((try r.value("overage", as: String.self)).utf8))
        var overage: [Meter: Money] = [:]
        for (key, minor) in overageMinor {
            guard let meter = Meter(rawValue: key) else { continue }
            overage[meter] = try Money(minor: minor, currency: currency)
        }
        func limit(_ column: String) throws -> Int64 { try r.value(column, as: Int64?.self) ?? .max }
        let plan = Plan(
            code: try r.value("code"), monthlyPrice: try Money(minor: try r.value("monthly_price_minor"), currency: currency),
            includedSites: try limit("included_sites"), includedStorageGB: try limit("included_storage_gb"),
            includedBandwidthGB: try limit("included_bandwidth_gb"), includedBackupGB: try limit("included_backup_gb"),
            includedMembers: try limit("included_members"), overage: overage,
            trialDays: Int(try r.value("trial_days", as: Int32.self)))
        return PlanRecord(
            plan: plan, name: try r.value("name"), storageHardLimitGB: try limit("storage_hard_limit_gb"),
            stripePriceID: try r.value("stripe_price_id"), archived: try r.value("archived"),
            createdAt: try r.value("created_at"), updatedAt: try r.value("updated_at"))
    }

    static func decodeSubscription(_ r: PostgresRandomAccessRow) throws -> SubscriptionRecord {
        let statusText: String = try r.value("status")
        guard let status = SubscriptionStatus(rawValue: statusText) else {
            throw CHOMError(.integrity, "unknown subscription status \(statusText)")
        }
        return SubscriptionRecord(
            organizationID: OrganizationID(try r.value("organization_id")), planCode: try r.value("plan_code"),
            status: status,
            period: DateInterval(start: try r.value("period_start"), end: try r.value("period_end")),
            periodPlanCode: try r.value("period_plan_code"), trialEndsAt: try r.value("trial_ends_at"),
            graceEndsAt: try r.value("grace_ends_at"), cancelAtPeriodEnd: try r.value("cancel_at_period_end"),
            pendingPlanCode: try r.value("pending_plan_code"), stripeCustomerID: try r.value("stripe_customer_id"),
            stripeSubscriptionID: try r.value("stripe_subscription_id"), createdAt: try r.value("created_at"),
            updatedAt: try r.value("updated_at"))
    }
}
