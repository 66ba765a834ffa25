import CHOMAudit
import CHOMCore
import CHOMStore
import CHOMTesting
import Foundation
import PostgresNIO
import Synchronization
import Testing

@Suite("Migration 5: names and app ports unique across the fleet")
struct SiteNamesMigrationTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    /// Rows as a database at version 4 could hold them: domains unique, aliases and ports never checked.
    func seed(_ client: PostgresClient) async throws -> (agent: UUID, sites: [String: UUID]) {
        let organization = UUID(), tenant = UUID(), agent = UUID()
        try await client.query("INSERT INTO organizations (id, name, created_at, updated_at) VALUES (\(organization), 'Acme', \(now), \(now))")
        try await client.query("""
            INSERT INTO tenants (id, organization_id, name, created_at) VALUES (\(tenant), \(organization), 'prod', \(now))
            """)
        try await client.query("""
            INSERT INTO agents (id, name, certificate_serial, certificate_not_after, enrolled_at)
            VALUES (\(agent), 'vps', '01', \(now), \(now))
            """)
        let rows: [(String, String, String, String)] = [
            ("a.test", "active", "static", #"{"aliases": ["shared.test", "www.a.test"]}"#),
            ("b.test", "active", "static", #"{"aliases": ["shared.test"]}"#),
            ("c.test", "active", "static", #"{"aliases": ["a.test"]}"#),
            ("app1.test", "active", "app", #"{"kind": "app", "appPort": 3000, "appCommand": "x"}"#),
            ("app2.test", "created", "app", #"{"kind": "app", "appPort": 3000, "appCommand": "x"}"#),
            // A removed site holds nothing: its alias and port are no conflict.
            ("gone.test", "removed", "app", #"{"kind": "app", "aliases": ["www.a.test"], "appPort": 3000, "appCommand": "x"}"#),
        ]
        var sites: [String: UUID] = [:]
        for (domain, state, kind, config) in rows {
            let id = UUID()
            sites[domain] = id
            try await client.query("""
                INSERT INTO sites (id, tenant_id, domain, agent_id, state, kind, config, created_at, updated_at)
                VALUES (\(id), \(tenant), \(domain), \(agent), \(state), \(kind), \(config)::jsonb, \(now), \(now))
                """)
        }
        return (agent, sites)
    }

    func versions(_ client: PostgresClient) async throws -> [Int] {
        var versions: [Int] = []
        for try await version in try await client.query("SELECT version FROM schema_migrations ORDER BY version")
            .decode(Int.self)
        {
            versions.append(version)
        }
        return versions
    }

    @Test("existing duplicate names or ports refuse the migration with a report naming each; once fixed it applies")
    func refusesDuplicates() async throws {
        try await ThrowawayPostgres.withStore(migrations: Array(Migrations.all.prefix(4))) { store in
            let client = store.client
            let (agent, sites) = try await seed(client)
            let refusal = await #expect(throws: CHOMError.self) {
                try await Migrator.migrate(client, logger: store.logger)
            }
            let report = try #require(refusal).message
            #expect(refusal?.code == .configuration)
            #expect(report.contains("name shared.test is used by the sites a.test (\(sites["a.test"]!.uuidString.lowercased())), b.test"), "\(report)")
            #expect(report.contains("name a.test is used by the sites a.test"), "\(report)")
            #expect(report.contains("c.test (\(sites["c.test"]!.uuidString.lowercased()))"), "\(report)")
            #expect(report.contains("port 3000 on agent \(agent.uuidString.lowercased()) is used by the app sites app1.test"), "\(report)")
            #expect(report.contains("app2.test"), "\(report)")
            #expect(!report.contains("gone.test") && !report.contains("www.a.test"), "\(report)")
            #expect(report.contains("coordinator-config/README.md"))
            // Nothing changed: still at version 4, no new table.
            #expect(try await versions(client) == [1, 2, 3, 4])
            let tables = try await client.query("SELECT count(*)::integer FROM pg_tables WHERE tablename = 'site_names'")
            for try await count in tables.decode(Int.self) { #expect(count == 0) }

            // The documented fix: change all but one holder of each, then start again.
            try await client.query(#"UPDATE sites SET config = '{"aliases": ["www.a.test"]}' WHERE domain = 'a.test'"#)
            try await client.query("UPDATE sites SET config = '{}' WHERE domain = 'c.test'")
            try await client.query(#"UPDATE sites SET config = jsonb_set(config, '{appPort}', '3001') WHERE domain = 'app2.test'"#)
            #expect(try await Migrator.migrate(client, logger: store.logger).first == 5)
            var names: [String: UUID] = [:]
            for try await (name, site) in try await client.query("SELECT name, site_id FROM site_names").decode((String, UUID).self) {
                names[name] = site
            }
            #expect(names == [
                "a.test": sites["a.test"]!, "www.a.test": sites["a.test"]!, "b.test": sites["b.test"]!,
                "shared.test": sites["b.test"]!, "c.test": sites["c.test"]!, "app1.test": sites["app1.test"]!,
                "app2.test": sites["app2.test"]!,
            ])
            var ports: [Int: UUID] = [:]
            for try await (port, site) in try await client.query("SELECT port, site_id FROM site_ports").decode((Int, UUID).self) {
                ports[port] = site
            }
            #expect(ports == [3000: sites["app1.test"]!, 3001: sites["app2.test"]!])
            // The removed site's domain no longer blocks the name: sites.domain is not UNIQUE any more.
            try await client.query("""
                INSERT INTO sites (id, tenant_id, domain, agent_id, state, created_at, updated_at)
                SELECT \(UUID()), tenant_id, 'gone.test', agent_id, 'created', now(), now() FROM sites WHERE domain = 'a.test'
                """)
        }
    }

    @Test("enrollment makes the agent (signs its CSR) only once the join token is found valid")
    func agentMadeOnlyForValidToken() async throws {
        try await ThrowawayPostgres.withStore { store in
            let id = JoinTokenID()
            let hash = Array(repeating: UInt8(7), count: 32)
            try await store.write(now: now) { transaction in
                _ = try await store.joinTokens.create(
                    id: id, secretSHA256: hash, description: "t", maxUses: 1, expiresAt: now.addingTimeInterval(3600),
                    now: now, in: transaction)
                try await transaction.record(AuditEntry(time: now, actor: "test", action: "join_token.create", target: "t"))
            }
            let made = Counter()
            func consume(_ presented: [UInt8]) async throws -> JoinTokenPolicy.Verdict {
                try await store.joinTokens.consume(
                    id, presentedSHA256: presented, now: now, sourceAddress: "ipv4:192.0.2.1:1",
                    agent: {
                        made.value.withLock { $0 += 1 }
                        return NewAgent(
                            id: AgentID(), name: "a", certificateSerial: "01", certificateNotAfter: now.addingTimeInterval(60),
                            agentVersion: "t", hostFacts: HostFacts(hostname: "a", cpuCount: 1))
                    },
                    audit: { _ in AuditEntry(time: now, actor: "test", action: "join_token.use", target: "t") })
            }
            #expect(try await consume(Array(repeating: 8, count: 32)) == .wrongSecret)
            #expect(made.value.withLock { $0 } == 0)
            #expect(try await consume(hash) == .valid)
            #expect(made.value.withLock { $0 } == 1)
            #expect(try await consume(hash) == .exhausted)
            #expect(made.value.withLock { $0 } == 1)
        }
    }
}

/// How many times the store asked for the agent.
private final class Counter: Sendable {
    let value = Mutex(0)
}
