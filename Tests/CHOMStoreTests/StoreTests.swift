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
            _ = try await store.joinTokens.create(
                id: id, secretSHA256: hash, description: "t", maxUses: 1, expiresAt: now.addingTimeInterval(3600), now: now)
            let first = try await store.joinTokens.consume(
                id, presentedSHA256: hash, now: now, sourceAddress: "127.0.0.1", agent: newAgent("a"))
            #expect(first == .valid)
            let second = try await store.joinTokens.consume(
                id, presentedSHA256: hash, now: now, sourceAddress: "127.0.0.1", agent: newAgent("b"))
            #expect(second == .exhausted)
            let wrong = try await store.joinTokens.consume(
                id, presentedSHA256: [UInt8](repeating: 8, count: 32), now: now, sourceAddress: "127.0.0.2",
                agent: newAgent("c"))
            #expect(wrong == .wrongSecret)
            let uses = try await store.joinTokens.uses(of: id)
            #expect(uses.map(\.outcome) == ["enrolled", "exhausted", "wrong_secret"])
            #expect(try await store.agents.list().map(\.name) == ["a"])
        }
    }

    @Test("placement is serialized and a duplicate domain is a conflict")
    func sitesPlacement() async throws {
        try await ThrowawayPostgres.withStore { store in
            let token = JoinTokenID()
            _ = try await store.joinTokens.create(
                id: token, secretSHA256: [1], description: "", maxUses: 5, expiresAt: now.addingTimeInterval(60), now: now)
            let agent = newAgent("a")
            _ = try await store.joinTokens.consume(token, presentedSHA256: [1], now: now, sourceAddress: "", agent: agent)
            await #expect(throws: CHOMError.self) {
                try await store.sites.create(id: SiteID(), domain: "x.test", now: now) { $0.first?.agentID }
            }
            try await store.agents.connected(agent.id, version: "t", highestSequenceSeen: 0, now: now)
            let site = try await store.sites.create(id: SiteID(), domain: "x.test", now: now) { $0.first?.agentID }
            #expect(site.agentID == agent.id)
            await #expect(throws: CHOMError.self) {
                try await store.sites.create(id: SiteID(), domain: "x.test", now: now) { $0.first?.agentID }
            }
        }
    }
}
