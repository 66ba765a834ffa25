import CHOMCore
import CHOMStore
import CHOMTesting
import Foundation
import PostgresNIO
import Testing

@Suite("Fleet reads filtered by the database: the gauges' counts, the draining agents, the failed agents")
struct AgentCountTests {
    @Test("agents are counted by state; a state with none is absent")
    func countsByState() async throws {
        try await ThrowawayPostgres.withStore { store in
            #expect(try await store.agents.countByState().isEmpty)
            let now = Date(timeIntervalSince1970: 1_800_000_000)
            for (index, state) in ["online", "online", "offline", "deleted", "online"].enumerated() {
                try await store.client.query("""
                    INSERT INTO agents (id, name, state, certificate_serial, certificate_not_after, enrolled_at)
                    VALUES (\(UUID()), \("agent-\(index)"), \(state), \("serial-\(index)"), \(now), \(now))
                    """)
            }
            #expect(try await store.agents.countByState() == [.online: 3, .offline: 1, .deleted: 1])
        }
    }

    @Test("the drain pass reads only draining agents and the failover pass only failed ones; deleted agents are never read")
    func filteredReads() async throws {
        try await ThrowawayPostgres.withStore { store in
            let now = Date(timeIntervalSince1970: 1_800_000_000)
            var ids: [UUID] = []
            let rows: [(state: String, scheduling: String, health: String)] = [
                ("online", "schedulable", "online"), ("online", "draining", "online"), ("offline", "draining", "offline"),
                ("deleted", "draining", "offline"), ("online", "cordoned", "suspect"), ("offline", "drained", "offline"),
            ]
            for (index, row) in rows.enumerated() {
                let id = UUID()
                ids.append(id)
                try await store.client.query("""
                    INSERT INTO agents (id, name, state, certificate_serial, certificate_not_after, enrolled_at, scheduling, health)
                    VALUES (\(id), \("agent-\(index)"), \(row.state), \("serial-\(index)"), \(now),
                            \(now.addingTimeInterval(Double(index))), \(row.scheduling), \(row.health))
                    """)
            }
            #expect(try await store.agents.list(scheduling: "draining").map(\.id.uuid) == [ids[1], ids[2]])
            #expect(try await store.agents.list(scheduling: "drained").map(\.id.uuid) == [ids[5]])
            #expect(try await store.agents.list(scheduling: "nonexistent").isEmpty)
            #expect(Set(try await store.agentHealth("offline").map(\.id.uuid)) == [ids[2], ids[5]])
            #expect(try await store.agentHealth("suspect").map(\.id.uuid) == [ids[4]])
            // Unfiltered, the detector's read: every undeleted agent.
            #expect(Set(try await store.agentHealth().map(\.id.uuid)) == Set(ids).subtracting([ids[3]]))
        }
    }
}
