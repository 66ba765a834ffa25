import CHOMCore
import CHOMStore
import CHOMTesting
import Foundation
import PostgresNIO
import Testing

@Suite("Migration 11: a site's suspension as a set of reasons")
struct SuspensionReasonsMigrationTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    @Test("a site suspended before reasons existed is suspended for manual; the others hold none; unknown reasons are refused")
    func suspendedRowsBecomeManual() async throws {
        try await ThrowawayPostgres.withStore(migrations: Migrations.all.filter { $0.version < 11 }) { store in
            let client = store.client
            let organization = UUID(), tenant = UUID(), agent = UUID(), held = UUID(), served = UUID()
            try await client.query(
                "INSERT INTO organizations (id, name, created_at, updated_at) VALUES (\(organization), 'Acme', \(now), \(now))")
            try await client.query("""
                INSERT INTO tenants (id, organization_id, name, created_at) VALUES (\(tenant), \(organization), 'prod', \(now))
                """)
            try await client.query("""
                INSERT INTO agents (id, name, certificate_serial, certificate_not_after, enrolled_at)
                VALUES (\(agent), 'vps', '01', \(now), \(now))
                """)
            for (id, domain, suspended) in [(held, "held.test", true), (served, "served.test", false)] {
                try await client.query("""
                    INSERT INTO sites (id, tenant_id, domain, agent_id, state, suspended, created_at, updated_at)
                    VALUES (\(id), \(tenant), \(domain), \(agent), 'active', \(suspended), \(now), \(now))
                    """)
            }
            try await Migrator.migrate(client, logger: store.logger)

            var reasons: [UUID: [String]] = [:]
            let rows = try await client.query("SELECT id, suspension_reasons FROM sites")
            for try await (id, stored) in rows.decode((UUID, [String]).self) { reasons[id] = stored }
            #expect(reasons == [held: ["manual"], served: []])

            let site = try #require(try await store.sites(in: .fleet).get(SiteID(held)))
            #expect(site.suspended && site.suspensionReasons == [.manual] && site.lifecycle.isSuspended)
            #expect(site.state == .active)

            await #expect(throws: (any Error).self) {
                try await client.query("UPDATE sites SET suspension_reasons = '{manual,vacation}' WHERE id = \(served)")
            }
        }
    }
}
