import CHOMAudit
import CHOMCore
import CHOMStore
import CHOMTesting
import Foundation
import PostgresNIO
import Testing

@Suite("Billing ledger: plans, subscriptions, and usage counted once per (agent, sequence)")
struct BillingLedgerTests {
    /// 2026-11-16 10:20:00 UTC.
    let now = Date(timeIntervalSince1970: 1_794_824_400)

    func plan(_ code: String, sites: Int64 = .max, trialDays: Int = 0) throws -> PlanRecord {
        PlanRecord(
            plan: Plan(
                code: code, monthlyPrice: try Money(minor: 2_900, currency: "EUR"), includedSites: sites,
                includedStorageGB: 20, includedBandwidthGB: .max, includedBackupGB: 5, includedMembers: 3,
                overage: [.bandwidthBytes: try Money(minor: 7, currency: "EUR")], trialDays: trialDays),
            name: "Plan \(code)", storageHardLimitGB: 50, createdAt: now, updatedAt: now)
    }

    @Test("a plan round-trips with its unlimited limits and overage; the default plan is created once and keeps edits")
    func plans() async throws {
        try await ThrowawayPostgres.withStore { store in
            let pro = try plan("pro", sites: 10)
            try await store.billing.ensurePlan(pro)
            #expect(try await store.billing.plan("pro") == pro)
            var edited = pro
            edited.name = "Pro, edited"
            try await store.write(now: now) { transaction in
                #expect(try await store.billing.updatePlan(edited, in: transaction))
                try await transaction.record(AuditEntry(time: now, actor: "test", action: "plan.update", target: "pro"))
            }
            try await store.billing.ensurePlan(pro)
            #expect(try await store.billing.plan("pro")?.name == "Pro, edited")
            await #expect(throws: CHOMError.self) {
                try await store.write(now: now) { transaction in
                    try await store.billing.createPlan(pro, in: transaction)
                    try await transaction.record(AuditEntry(time: now, actor: "test", action: "plan.create", target: "pro"))
                }
            }
            #expect(try await store.billing.plans().map(\.code) == ["pro"])
        }
    }

    @Test("organizations without a subscription get the plan once, trialing when it has a trial; the rest are untouched")
    func subscribeMissing() async throws {
        try await ThrowawayPostgres.withStore { store in
            let trial = try plan("trial", trialDays: 14)
            try await store.billing.ensurePlan(trial)
            let (first, _) = try await makeTenant(store)
            let (second, _) = try await makeTenant(store)
            let made = try await store.write(now: now) { transaction in
                let made = try await store.billing.subscribeMissing(plan: trial, now: now, in: transaction)
                try await transaction.record(AuditEntry(time: now, actor: "test", action: "subscribe", target: "all"))
                return made
            }
            #expect(Set(made) == [first, second])
            #expect(try await store.billing.anyUnsubscribed() == false)
            let subscription = try #require(try await store.billing.subscription(first))
            #expect(subscription.status == .trialing)
            #expect(subscription.trialEndsAt == now.addingTimeInterval(14 * 86_400))
            // The first period runs from the subscription's start to the end of its month.
            #expect(subscription.period == DateInterval(start: now, end: Date(timeIntervalSince1970: 1_796_083_200)))
            let again = try await store.write(now: now) { transaction in
                let made = try await store.billing.subscribeMissing(plan: trial, now: now, in: transaction)
                try await transaction.record(AuditEntry(time: now, actor: "test", action: "subscribe", target: "all"))
                return made
            }
            #expect(again.isEmpty)
        }
    }

    @Test("a replayed sample counts once, a late one lands in its own hour, and usage rows cannot be changed or deleted")
    func usageOnce() async throws {
        try await ThrowawayPostgres.withStore { store in
            let (organization, tenant) = try await makeTenant(store)
            let agent = UUID()
            let site = SiteID()
            let hour = UsageMetering.hour(of: now)
            func row(_ sequence: Int64, _ meter: Meter, _ quantity: Int64, at date: Date) -> UsageRow {
                UsageRow(
                    key: .init(agent: agent, sequence: sequence), hour: UsageMetering.hour(of: date), meter: meter,
                    quantity: quantity, site: site, tenant: tenant, organization: organization)
            }
            let batch = [row(1, .bandwidthBytes, 1_000, at: now), row(2, .siteHours, 1, at: now)]
            #expect(try await store.billing.append(batch) == 2)
            // The same samples again (a reconnect, a replay, another replica): nothing new.
            #expect(try await store.billing.append(batch) == 0)
            // A late sample of three hours ago arrives now, with a new sequence: it counts in its hour.
            let late = now.addingTimeInterval(-3 * 3600)
            #expect(try await store.billing.append([row(3, .bandwidthBytes, 500, at: late)]) == 1)
            let period = BillingCalendar.month(containing: now)
            #expect(try await store.billing.usage(organization, period: period) == [.bandwidthBytes: 1_500, .siteHours: 1])
            let lastHour = DateInterval(start: hour, duration: 3600)
            #expect(try await store.billing.usage(organization, period: lastHour) == [.bandwidthBytes: 1_000, .siteHours: 1])
            let lateHour = DateInterval(start: UsageMetering.hour(of: late), duration: 3600)
            #expect(try await store.billing.usage(organization, period: lateHour) == [.bandwidthBytes: 500])
            // Another organization sees none of it.
            let (other, _) = try await makeTenant(store)
            #expect(try await store.billing.usage(other, period: period).isEmpty)
            // Append-only.
            await #expect(throws: (any Error).self) {
                try await store.client.query("UPDATE usage_hourly SET quantity = 0")
            }
            await #expect(throws: (any Error).self) {
                try await store.client.query("DELETE FROM usage_hourly")
            }
            #expect(try await store.billing.usage(organization, period: period) == [.bandwidthBytes: 1_500, .siteHours: 1])

            // Backups: 3,600 bytes kept from 10:00 for two hours (deleted at 12:00), and 7,200 bytes
            // from 11:30 still kept at the period's end (13:00 here): 7,200 + 10,800 byte-hours.
            let ten = UsageMetering.hour(of: now)
            try await store.client.query("""
                INSERT INTO sites (id, tenant_id, domain, state, created_at, updated_at)
                VALUES (\(site.uuid), \(tenant.uuid), 'backed.test', 'active', \(now), \(now))
                """)
            for (size, finished, deleted) in [
                (Int64(3_600), ten, Optional(ten.addingTimeInterval(7_200))), (7_200, ten.addingTimeInterval(5_400), nil),
                (1_000_000, ten.addingTimeInterval(-9_000), Optional(ten.addingTimeInterval(-3_600))),
            ] {
                try await store.client.query("""
                    INSERT INTO backups (id, site_id, tenant_id, state, size_bytes, created_at, finished_at, deleted_at)
                    VALUES (\(UUID()), \(site.uuid), \(tenant.uuid), 'succeeded', \(size), \(finished), \(finished), \(deleted))
                    """)
            }
            let window = DateInterval(start: ten, end: ten.addingTimeInterval(3 * 3_600))
            #expect(try await store.billing.usage(organization, period: window)[.backupByteHours] == 18_000)
        }
    }

    @Test("the quota counts: live sites only, members with open invitations only, kept backups' bytes")
    func counts() async throws {
        try await ThrowawayPostgres.withStore { store in
            let (organization, tenant) = try await makeTenant(store)
            for (index, state) in ["active", "created", "removed", "removing"].enumerated() {
                try await store.client.query("""
                    INSERT INTO sites (id, tenant_id, domain, state, created_at, updated_at)
                    VALUES (\(UUID()), \(tenant.uuid), \("s\(index).count.test"), \(state), \(now), \(now))
                    """)
            }
            let user = UUID()
            try await store.client.query("""
                INSERT INTO users (id, email, display_name, password_hash, created_at, updated_at)
                VALUES (\(user), 'one@count.test', 'One', 'x', \(now), \(now))
                """)
            try await store.client.query("""
                INSERT INTO memberships (organization_id, user_id, role, created_at, updated_at)
                VALUES (\(organization.uuid), \(user), 'owner', \(now), \(now))
                """)
            for (index, (accepted, revoked, expires)) in [
                (false, false, 3600.0), (true, false, 3600), (false, true, 3600), (false, false, -1),
            ].enumerated() {
                try await store.client.query("""
                    INSERT INTO invitations (id, organization_id, email, role, secret_sha256, created_at, expires_at,
                        accepted_at, revoked_at)
                    VALUES (\(UUID()), \(organization.uuid), \("i\(index)@count.test"), 'viewer', '\\x00'::bytea, \(now),
                        \(now.addingTimeInterval(expires)), \(accepted ? now : nil), \(revoked ? now : nil))
                    """)
            }
            let counts = try await store.billing.counts(organization, now: now)
            #expect(counts.sites == 2)
            #expect(counts.members == 2)
            #expect(counts.storageBytes == 0)
        }
    }

    func makeTenant(_ store: Store) async throws -> (OrganizationID, TenantID) {
        try await store.write(now: now) { transaction in
            let organization = try await store.organizations.create(
                id: OrganizationID(), name: "org", now: now, in: transaction)
            let tenant = try await store.organizations.createTenant(
                id: TenantID(), organization: organization.id, name: "default", now: now, in: transaction)
            try await transaction.record(AuditEntry(time: now, actor: "test", action: "tenant.create", target: "t"))
            return (organization.id, tenant.id)
        }
    }
}
