import CHOMAudit
import CHOMCore
import CHOMStore
import CHOMTesting
import Crypto
import Foundation
import PostgresNIO
import Testing

@Suite("The audit log in PostgreSQL")
struct AuditLogStoreTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    func entry(_ action: String) -> AuditEntry {
        AuditEntry(time: now, actor: "test", action: action, target: "organization")
    }

    /// Creates an organization and records `action` in the same write.
    func createOrganization(_ store: Store, action: String = "organization.create") async throws {
        try await store.write(now: now) { transaction in
            _ = try await store.organizations.create(id: OrganizationID(), name: "org", now: now, in: transaction)
            try await transaction.record(entry(action))
        }
    }

    func organizationCount(_ store: Store) async throws -> Int {
        for try await count in try await store.client.query("SELECT count(*)::integer FROM organizations").decode(Int.self) {
            return count
        }
        return -1
    }

    @Test("UPDATE, DELETE and TRUNCATE on the audit tables are refused by the database itself")
    func appendOnly() async throws {
        try await ThrowawayPostgres.withStore { store in
            let signing = Store(
                client: store.client, logger: store.logger,
                audit: AuditSettings(signingKey: Curve25519.Signing.PrivateKey(), everyEntries: 1))
            try await createOrganization(signing)
            for statement in [
                "UPDATE audit_entries SET actor = 'someone else'", "DELETE FROM audit_entries",
                "TRUNCATE audit_entries", "UPDATE audit_checkpoints SET key_id = 'x'", "DELETE FROM audit_checkpoints",
                "TRUNCATE audit_checkpoints", "UPDATE audit_pending SET actor = 'someone else'", "TRUNCATE audit_pending",
            ] {
                await #expect(throws: PSQLError.self, "\(statement)") {
                    try await store.client.query(PostgresQuery(unsafeSQL: statement))
                }
            }
            let entries = try await store.audit.list(AuditQuery(organizationIDs: nil))
            #expect(entries.map(\.entry.actor) == ["test"])
            #expect(try await store.audit.checkpoints().count == 1)
        }
    }

    @Test("a change whose audit entry cannot be written is not committed, and a write without an entry is refused")
    func auditFailureFailsTheChange() async throws {
        try await ThrowawayPostgres.withStore { store in
            try await store.client.query("""
                CREATE FUNCTION refuse_boom() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN IF NEW.action = 'boom' THEN RAISE EXCEPTION 'audit write failed'; END IF; RETURN NEW; END $$
                """)
            try await store.client.query(
                "CREATE TRIGGER refuse_boom BEFORE INSERT ON audit_pending FOR EACH ROW EXECUTE FUNCTION refuse_boom()")
            await #expect(throws: (any Error).self) { try await createOrganization(store, action: "boom") }
            #expect(try await organizationCount(store) == 0)
            await #expect(throws: CHOMError.self) {
                try await store.write(now: now) { transaction in
                    _ = try await store.organizations.create(id: OrganizationID(), name: "silent", now: now, in: transaction)
                }
            }
            #expect(try await organizationCount(store) == 0)
            try await createOrganization(store)
            #expect(try await organizationCount(store) == 1)
            #expect(try await store.audit.head().sequence == 1)
        }
    }

    @Test("an entry whose chaining fails stays staged with its committed change, and joins the chain at the next write or read")
    func chainingFailureKeepsTheEntry() async throws {
        try await ThrowawayPostgres.withStore { store in
            try await store.client.query("""
                CREATE FUNCTION refuse_late() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN IF NEW.action = 'late' THEN RAISE EXCEPTION 'chain write failed'; END IF; RETURN NEW; END $$
                """)
            try await store.client.query(
                "CREATE TRIGGER refuse_late BEFORE INSERT ON audit_entries FOR EACH ROW EXECUTE FUNCTION refuse_late()")
            // The change commits; its entry cannot be chained yet and is kept, not lost.
            try await createOrganization(store, action: "late")
            #expect(try await organizationCount(store) == 1)
            #expect(try await store.audit.pendingCount() == 1)
            await #expect(throws: (any Error).self) { _ = try await store.audit.list(AuditQuery(organizationIDs: nil)) }
            try await store.client.query("DROP TRIGGER refuse_late ON audit_entries")
            // A crashed writer's staged entry too (as if its process died right after its commit).
            try await store.client.query("""
                INSERT INTO audit_pending (time, actor, action, target, request_id, source_address, details)
                VALUES (now(), 'test', 'crashed', 'organization', '', '', '{}')
                """)
            try await store.audit.checkpointIfDue(now: now)
            #expect(try await store.audit.pendingCount() == 0)
            try await createOrganization(store, action: "next")
            let entries = try await store.audit.list(AuditQuery(organizationIDs: nil))
            #expect(entries.map(\.entry.action) == ["next", "crashed", "late"])
            var verifier = AuditChainVerifier()
            try await store.audit.walk { verifier.feed($0) }
            #expect(verifier.finish().isIntact)
        }
    }

    @Test("concurrent writers get gap-free sequences that form one intact chain")
    func concurrentAppends() async throws {
        try await ThrowawayPostgres.withStore { store in
            let writers = 40
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<writers { group.addTask { try await createOrganization(store) } }
                try await group.waitForAll()
            }
            var verifier = AuditChainVerifier()
            var sequences: [Int64] = []
            try await store.audit.walk(batchSize: 7) { stored in
                sequences.append(stored.sequence)
                return verifier.feed(stored)
            }
            #expect(sequences == Array(1...Int64(writers)))
            #expect(verifier.finish().isIntact)
        }
    }

    @Test("a signed checkpoint is written every N entries and verifies under the coordinator's key")
    func checkpointsEveryNEntries() async throws {
        try await ThrowawayPostgres.withStore { store in
            let key = Curve25519.Signing.PrivateKey()
            let signing = Store(
                client: store.client, logger: store.logger,
                audit: AuditSettings(signingKey: key, everyEntries: 3, everyInterval: 3600))
            for _ in 0..<7 { try await createOrganization(signing) }
            let checkpoints = try await signing.audit.checkpoints()
            #expect(checkpoints.map(\.sequence) == [1, 4, 7])
            #expect(checkpoints.allSatisfy { $0.verify(publicKeys: [key.publicKey]) })
            #expect(!checkpoints[0].verify(publicKeys: [Curve25519.Signing.PrivateKey().publicKey]))
            // Entries written without a key (another store) do not checkpoint; the age rule does later.
            try await createOrganization(store)
            #expect(try await signing.audit.checkpoints().count == 3)
            try await signing.audit.checkpointIfDue(now: now.addingTimeInterval(3601))
            #expect(try await signing.audit.checkpoints().map(\.sequence) == [1, 4, 7, 8])
        }
    }

    @Test("a backlog larger than one chaining batch joins the chain in order, on the existing head, with checkpoints on the entries they name")
    func backlogOverSeveralBatches() async throws {
        try await ThrowawayPostgres.withStore { store in
            let key = Curve25519.Signing.PrivateKey()
            let signing = Store(
                client: store.client, logger: store.logger,
                audit: AuditSettings(signingKey: key, everyEntries: 400, everyInterval: 3600))
            try await createOrganization(signing, action: "first")
            // 1,100 entries staged at once (as if writers' chaining had failed for a while): three
            // batches of at most 500, each linked to the head the one before it wrote.
            try await store.client.query("""
                INSERT INTO audit_pending (time, actor, action, target, request_id, source_address, details)
                SELECT now(), 'test', 'backlog-' || n, 'organization', '', '', '{}' FROM generate_series(1, 1100) n
                """)
            try await signing.audit.checkpointIfDue(now: now)
            #expect(try await signing.audit.pendingCount() == 0)
            var actions: [String] = []
            var hashes: [Int64: [UInt8]] = [:]
            var verifier = AuditChainVerifier()
            try await signing.audit.walk { stored in
                actions.append(stored.entry.action)
                hashes[stored.sequence] = stored.hash
                return verifier.feed(stored)
            }
            #expect(verifier.finish().isIntact)
            #expect(actions == ["first"] + (1...1100).map { "backlog-\($0)" })
            // Due every 400 entries: checked at the end of each batch (entries 501 and 1001) and
            // at the last (1101); each names the head it was signed on.
            let checkpoints = try await signing.audit.checkpoints()
            #expect(checkpoints.map(\.sequence) == [1, 501, 1001])
            for checkpoint in checkpoints {
                #expect(checkpoint.headHash == hashes[checkpoint.sequence])
                #expect(checkpoint.verify(publicKeys: [key.publicKey]))
            }
        }
    }
}
