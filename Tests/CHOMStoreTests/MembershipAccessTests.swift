import CHOMCore
import CHOMStore
import CHOMTesting
import Foundation
import PostgresNIO
import Testing

@Suite("A user's memberships and the tenants they reach, read in one query for every authenticated request")
struct MembershipAccessTests {
    @Test("a whole-organization membership reaches every tenant of that organization only; a restricted one its listed tenants; none reaches nothing")
    func access() async throws {
        try await ThrowawayPostgres.withStore { store in
            let now = Date(timeIntervalSince1970: 1_800_000_000)
            let (orgA, orgB, orgC) = (UUID(), UUID(), UUID())
            for (index, org) in [orgA, orgB, orgC].enumerated() {
                try await store.client.query(
                    "INSERT INTO organizations (id, name, created_at, updated_at) VALUES (\(org), \("org-\(index)"), \(now), \(now))")
            }
            var tenants: [UUID: [UUID]] = [:]
            for org in [orgA, orgB, orgC] {
                for index in 0..<3 {
                    let tenant = UUID()
                    tenants[org, default: []].append(tenant)
                    try await store.client.query(
                        "INSERT INTO tenants (id, organization_id, name, created_at) VALUES (\(tenant), \(org), \("t-\(index)"), \(now))")
                }
            }
            let (user, loner) = (UUID(), UUID())
            for (id, email) in [(user, "member@chom.test"), (loner, "loner@chom.test")] {
                try await store.client.query("""
                    INSERT INTO users (id, email, password_hash, created_at, updated_at)
                    VALUES (\(id), \(email), 'x', \(now), \(now))
                    """)
            }
            // orgA: every tenant, as admin; orgB: one tenant, as viewer; orgC: no membership.
            try await store.client.query("""
                INSERT INTO memberships (organization_id, user_id, role, tenant_ids, created_at, updated_at)
                VALUES (\(orgA), \(user), 'admin', '{}', \(now), \(now)),
                       (\(orgB), \(user), 'viewer', \([tenants[orgB]![1]]), \(now), \(now))
                """)
            let access = try await store.memberships.access(of: UserID(user))
            #expect(Set(access.memberships.map(\.organizationID.uuid)) == [orgA, orgB])
            #expect(access.memberships.allSatisfy { $0.email == "member@chom.test" })
            #expect(access.memberships == (try await store.memberships.memberships(of: UserID(user))))
            let reached = Dictionary(uniqueKeysWithValues: access.grants.map { ($0.tenantID.uuid, $0) })
            #expect(Set(reached.keys) == Set(tenants[orgA]!).union([tenants[orgB]![1]]))
            #expect(tenants[orgA]!.allSatisfy { reached[$0]?.role == .admin && reached[$0]?.organizationID.uuid == orgA })
            #expect(reached[tenants[orgB]![1]]?.role == .viewer)
            #expect(tenants[orgC]!.allSatisfy { reached[$0] == nil })
            let none = try await store.memberships.access(of: UserID(loner))
            #expect(none.memberships.isEmpty && none.grants.isEmpty)
        }
    }
}
