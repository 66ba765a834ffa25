import CHOMCore
import CHOMStore
import CHOMTesting
import Foundation
import PostgresNIO
import Testing

@Suite("The fleet gauges' agent counts come from the database, deleted agents included")
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
}
