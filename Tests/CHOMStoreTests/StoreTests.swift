import CHOMAudit
import CHOMCore
import CHOMStore
import CHOMTesting
import Foundation
import PostgresNIO
import Testing

@Suite("Store against a real PostgreSQL")
struct StoreTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    func newAgent(_ name: String) -> NewAgent {
        NewAgent(
            id: AgentID(), name: name, certificateSerial: "01", certificateNotAfter: now.addingTimeInterval(3600),
            agentVersion: "test", hostFacts: HostFacts(hostname: name, cpuCount: 2))
    }

    func audit(_ action: String) -> AuditEntry {
        AuditEntry(time: now, actor: "test", action: action, target: "test")
    }

    @discardableResult
    func createToken(_ store: Store, _ id: JoinTokenID, hash: [UInt8], maxUses: Int) async throws -> JoinTokenRecord {
        try await store.write(now: now) { transaction in
            let record = try await store.joinTokens.create(
                id: id, secretSHA256: hash, description: "t", maxUses: maxUses, expiresAt: now.addingTimeInterval(3600),
                now: now, in: transaction)
            try await transaction.record(audit("join_token.create"))
            return record
        }
    }

    func consume(_ store: Store, _ id: JoinTokenID, hash: [UInt8], agent: NewAgent, address: String = "127.0.0.1")
        async throws -> JoinTokenPolicy.Verdict
    {
        let entry = audit("join_token.use")
        return try await store.joinTokens.consume(
            id, presentedSHA256: hash, now: now, sourceAddress: address, agent: agent, audit: { _ in entry })
    }

    /// An organization with one tenant, created through audited writes.
    func makeTenant(_ store: Store, _ name: String) async throws -> TenantID {
        try await store.write(now: now) { transaction in
            let organization = try await store.organizations.create(
                id: OrganizationID(), name: name, now: now, in: transaction)
            let tenant = try await store.organizations.createTenant(
                id: TenantID(), organization: organization.id, name: "default", now: now, in: transaction)
            try await transaction.record(audit("tenant.create"))
            return tenant.id
        }
    }

    @Test("migrations apply once and are recorded; a second run applies nothing")
    func migrationsAreIdempotent() async throws {
        try await ThrowawayPostgres.withStore { store in
            let again = try await Migrator.migrate(store.client, logger: store.logger)
            #expect(again.isEmpty)
            var versions: [Int] = []
            for try await version in try await store.client.query("SELECT version FROM schema_migrations").decode(Int.self) {
                versions.append(version)
            }
            #expect(versions == Migrations.all.map(\.version))
        }
    }

    @Test("a join token enrolls up to its use limit, then is exhausted; every use is recorded")
    func joinTokenUses() async throws {
        try await ThrowawayPostgres.withStore { store in
            let id = JoinTokenID()
            let hash = [UInt8](repeating: 7, count: 32)
            try await createToken(store, id, hash: hash, maxUses: 1)
            let first = try await consume(store, id, hash: hash, agent: newAgent("a"))
            #expect(first == .valid)
            let second = try await consume(store, id, hash: hash, agent: newAgent("b"))
            #expect(second == .exhausted)
            let wrong = try await consume(
                store, id, hash: [UInt8](repeating: 8, count: 32), agent: newAgent("c"), address: "127.0.0.2")
            #expect(wrong == .wrongSecret)
            let uses = try await store.joinTokens.uses(of: id)
            #expect(uses.map(\.outcome) == ["enrolled", "exhausted", "wrong_secret"])
            #expect(try await store.agents.list().map(\.name) == ["a"])
        }
    }

    @Test("a site is created on the agent chosen under the placement lock; a duplicate domain is a conflict")
    func sitesPlacement() async throws {
        try await ThrowawayPostgres.withStore { store in
            let token = JoinTokenID()
            try await createToken(store, token, hash: [1], maxUses: 5)
            let agent = newAgent("a")
            _ = try await consume(store, token, hash: [1], agent: agent)
            let tenant = try await makeTenant(store, "org")
            let sites = store.sites(in: .fleet)
            func create() async throws -> SiteRecord {
                try await store.write(now: now) { transaction in
                    try await store.fleet.lockPlacement(in: transaction)
                    let site = try await sites.create(
                        id: SiteID(), tenant: tenant, domain: "x.test", agent: agent.id, now: now, in: transaction)
                    try await transaction.record(audit("site.create"))
                    return site
                }
            }
            let site = try await create()
            #expect(site.agentID == agent.id)
            #expect(site.tenantID == tenant)
            #expect(try await store.fleet.placedSites().map(\.siteID) == [site.id])
            // The database's unique name decides (migration 5), whatever the tenant.
            await #expect(throws: SiteClaimConflict.name("x.test")) { try await create() }
        }
    }
}
