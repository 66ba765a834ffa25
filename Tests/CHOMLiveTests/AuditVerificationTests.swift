import CHOMAPI
import CHOMAudit
import CHOMCoordinator
import CHOMCore
import CHOMStore
import CHOMTesting
import Foundation
import PostgresNIO
import Testing

/// The audit log through the API, and an attacker with direct database access: verification
/// names the first broken entry, and exported checkpoints catch what the database alone cannot.
@Suite("Audit log verification against a live coordinator")
struct AuditVerificationTests {
    /// A coordinator with 12 organizations created (plus the bootstrap and login entries),
    /// checkpoints every 5 entries, and the checkpoints exported before `attack` runs.
    func withAuditedCoordinator(
        _ body: (TestCoordinator, _ exported: String, _ entries: Int) async throws -> Void
    ) async throws {
        try await TestCoordinator.with(configure: { $0.audit.checkpointEveryEntries = 5 }) { coordinator in
            for index in 0..<12 { _ = try await coordinator.client.createOrganization(name: "org \(index)") }
            let verified = try await coordinator.client.auditVerify()
            #expect(verified.intact, "\(verified)")
            #expect(verified.checkpointsChecked >= 3)
            let exported = try await coordinator.client.auditCheckpoints()
            try await body(coordinator, exported, verified.entries)
        }
    }

    /// Runs `statements` with the audit triggers switched off, as a database superuser could, in one
    /// transaction under the append lock: a chaining run or an age checkpoint of the coordinator
    /// (housekeeping) that read the head before the tampering cannot land after it (a checkpoint
    /// signed on a deleted head made the truncated-tail test fail once under load).
    func tamper(_ coordinator: TestCoordinator, _ statements: [String]) async throws {
        try await TestDatabase.withClient(dataDirectory: coordinator.dataDirectory) { client in
            try await client.withTransaction(logger: TestLogging.logger("chom.test.sql")) { connection in
                try await connection.query("SELECT pg_advisory_xact_lock(\(AuditLog.appendLockKey))", logger: connection.logger)
                try await connection.query("ALTER TABLE audit_entries DISABLE TRIGGER USER", logger: connection.logger)
                try await connection.query("ALTER TABLE audit_checkpoints DISABLE TRIGGER USER", logger: connection.logger)
                for statement in statements {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: connection.logger)
                }
                try await connection.query("ALTER TABLE audit_entries ENABLE TRIGGER USER", logger: connection.logger)
                try await connection.query("ALTER TABLE audit_checkpoints ENABLE TRIGGER USER", logger: connection.logger)
            }
        }
    }

    @Test("entries that cannot be chained are counted by chom_coordinator_audit_pending_entries until the leader chains them")
    func pendingGauge() async throws {
        try await TestCoordinator.with { coordinator in
            func pending() -> Int {
                let line = coordinator.coordinator.metrics.exposition().split(separator: "\n")
                    .first { $0.hasPrefix(MetricName.coordinatorAuditPending + " ") }
                return line.flatMap { Double($0.split(separator: " ").last ?? "").map { Int($0) } } ?? -1
            }
            try await coordinator.eventually("the gauge at 0") { pending() == 0 }
            try await TestDatabase.withClient(dataDirectory: coordinator.dataDirectory) { client in
                try await client.query("""
                    CREATE FUNCTION refuse_late() RETURNS trigger LANGUAGE plpgsql AS $$
                    BEGIN IF NEW.action = 'late' THEN RAISE EXCEPTION 'chain write failed'; END IF; RETURN NEW; END $$
                    """)
                try await client.query(
                    "CREATE TRIGGER refuse_late BEFORE INSERT ON audit_entries FOR EACH ROW EXECUTE FUNCTION refuse_late()")
                // As a writer leaves it when its process dies between its commit and the chaining.
                try await client.query("""
                    INSERT INTO audit_pending (time, actor, action, target, request_id, source_address, details)
                    VALUES (now(), 'test', 'late', 'organization', '', '', '{}')
                    """)
            }
            try await coordinator.eventually("the unchained entry counted") { pending() == 1 }
            try await TestDatabase.execute("DROP TRIGGER refuse_late ON audit_entries", dataDirectory: coordinator.dataDirectory)
            // The leader's checkpoint loop chains it, and the gauge says so.
            try await coordinator.eventually("the entry chained") { pending() == 0 }
            let verified = try await coordinator.client.auditVerify()
            #expect(verified.intact, "\(verified)")
            #expect(try await coordinator.client.allAuditEntries(AuditFilter(action: "late")).count == 1)
        }
    }

    @Test("the leader's self-check sets chom_coordinator_audit_chain_intact: 1 while intact, 0 once an entry is altered")
    func selfCheckGauge() async throws {
        try await TestCoordinator.with(configure: { $0.audit.verifyEveryMinutes = 0.01 }) { coordinator in
            func gauge(_ name: String) -> Double? {
                coordinator.coordinator.metrics.exposition().split(separator: "\n")
                    .first { $0.hasPrefix(name + " ") }
                    .flatMap { Double($0.split(separator: " ").last ?? "") }
            }
            for index in 0..<3 { _ = try await coordinator.client.createOrganization(name: "checked \(index)") }
            try await coordinator.eventually("the chain verified whole") {
                gauge(MetricName.coordinatorAuditChainIntact) == 1
                    && (gauge(MetricName.coordinatorAuditChainEntries) ?? 0) >= 4
            }
            let verifiedAt = try #require(gauge(MetricName.coordinatorAuditChainVerifiedAt))
            #expect(abs(verifiedAt - Date().timeIntervalSince1970) < 60)
            try await tamper(coordinator, ["UPDATE audit_entries SET actor = 'user:mallory' WHERE sequence = 2"])
            try await coordinator.eventually("the broken chain reported") { gauge(MetricName.coordinatorAuditChainIntact) == 0 }
        }
    }

    @Test("mutations and security events are recorded with actor, request id and source address")
    func entriesCarryTheirContext() async throws {
        try await TestCoordinator.with { coordinator in
            let failed = try await TestHTTP.request(
                "POST", coordinator.apiURL.appending(path: "/v1/auth/login"),
                body: Data(#"{"email":"nobody@chom.test","password":"wrong-password-123"}"#.utf8))
            #expect(failed.status == 401)
            let created = try await TestHTTP.request(
                "POST", coordinator.apiURL.appending(path: "/v1/organizations"), token: coordinator.operatorToken,
                body: Data(#"{"name":"Audited"}"#.utf8), headers: ["X-Request-Id": "req-audit-1"])
            #expect(created.status == 201)
            #expect(created.headers["x-request-id"] == "req-audit-1")
            let me = try await coordinator.client.me()
            let entries = try await coordinator.client.allAuditEntries()
            let organization = try #require(entries.first { $0.action == "organization.create" })
            #expect(organization.requestId == "req-audit-1")
            #expect(organization.actor == "user:\(me.user.id)")
            #expect(organization.sourceAddress == "127.0.0.1")
            #expect(organization.organizationId != nil)
            let failure = try #require(entries.first { $0.action == "auth.login.failed" })
            #expect(failure.actor == "anonymous")
            #expect(failure.details["reason"] == "bad_credentials")
            #expect(entries.contains { $0.action == "auth.login.succeeded" && $0.actor == "user:\(me.user.id)" })
            #expect(!entries.contains { $0.details.values.contains { $0.contains("wrong-password") } })
            // Filters.
            let onlyLogins = try await coordinator.client.allAuditEntries(AuditFilter(action: "auth.login.failed"))
            #expect(onlyLogins.map(\.sequence) == [failure.sequence])
        }
    }

    @Test("an entry altered in the database is named with hash_mismatch")
    func alteredEntry() async throws {
        try await withAuditedCoordinator { coordinator, _, _ in
            try await tamper(coordinator, ["UPDATE audit_entries SET actor = 'user:mallory' WHERE sequence = 6"])
            let verified = try await coordinator.client.auditVerify()
            #expect(!verified.intact)
            #expect(verified.firstBrokenSequence == 6)
            #expect(verified.reason == "hash_mismatch")
        }
    }

    @Test("a deleted entry is named as a sequence gap")
    func deletedEntry() async throws {
        try await withAuditedCoordinator { coordinator, _, _ in
            try await tamper(coordinator, ["DELETE FROM audit_entries WHERE sequence = 4"])
            let verified = try await coordinator.client.auditVerify()
            #expect(verified.firstBrokenSequence == 4)
            #expect(verified.reason == "sequence_gap")
        }
    }

    @Test("a truncated tail passes the database's own check but not the exported checkpoints")
    func truncatedTail() async throws {
        try await withAuditedCoordinator { coordinator, exported, entries in
            let keep = 8
            #expect(entries > keep + 5)
            try await tamper(coordinator, [
                "DELETE FROM audit_entries WHERE sequence > \(keep)",
                "DELETE FROM audit_checkpoints WHERE sequence > \(keep)",
            ])
            let alone = try await coordinator.client.auditVerify()
            #expect(alone.intact)
            #expect(alone.entries == keep)
            let withExport = try await coordinator.client.auditVerify(checkpoints: exported)
            #expect(!withExport.intact)
            #expect(withExport.reason == "truncated")
        }
    }

    @Test("a chain recomputed after tampering passes the database's own check but not the exported checkpoints")
    func recomputedChain() async throws {
        try await withAuditedCoordinator { coordinator, exported, _ in
            try await TestDatabase.withClient(dataDirectory: coordinator.dataDirectory) { client in
                let store = Store(client: client, logger: TestLogging.logger("chom.test.attacker"))
                var entries: [AuditEntry] = []
                try await store.audit.walk { stored in
                    entries.append(stored.entry)
                    return true
                }
                entries[2].actor = "user:mallory"
                let rebuilt = AuditChain.build(entries)
                try await client.query("ALTER TABLE audit_entries DISABLE TRIGGER USER")
                try await client.query("ALTER TABLE audit_checkpoints DISABLE TRIGGER USER")
                for stored in rebuilt {
                    try await client.query("""
                        UPDATE audit_entries SET actor = \(stored.entry.actor),
                            previous_hash = \(ByteBuffer(bytes: stored.previousHash)), hash = \(ByteBuffer(bytes: stored.hash))
                        WHERE sequence = \(stored.sequence)
                        """)
                }
                try await client.query("DELETE FROM audit_checkpoints")
                try await client.query("ALTER TABLE audit_entries ENABLE TRIGGER USER")
                try await client.query("ALTER TABLE audit_checkpoints ENABLE TRIGGER USER")
            }
            let alone = try await coordinator.client.auditVerify()
            #expect(alone.intact, "the database alone cannot tell")
            let withExport = try await coordinator.client.auditVerify(checkpoints: exported)
            #expect(!withExport.intact)
            #expect(withExport.reason == "checkpoint_mismatch")
            #expect((withExport.firstBrokenSequence ?? 0) >= 3)
        }
    }

    @Test("a forged checkpoint (wrong signature) is refused")
    func forgedCheckpoint() async throws {
        try await withAuditedCoordinator { coordinator, exported, _ in
            let first = try #require(exported.split(separator: "\n").first)
            // Flip one hex digit of the signature.
            var line = String(first)
            let range = try #require(line.range(of: "\"signature\":\""))
            let index = range.upperBound
            line.replaceSubrange(index...index, with: line[index] == "0" ? "1" : "0")
            let verified = try await coordinator.client.auditVerify(checkpoints: line + "\n")
            #expect(!verified.intact)
            #expect(verified.reason == "checkpoint_signature_invalid")
        }
    }

    @Test("tenant owners cannot verify or export the fleet's audit chain")
    func verifyIsForOperators() async throws {
        try await TestCoordinator.with { coordinator in
            let organization = try await coordinator.client.createOrganization(name: "Tenant org")
            let invitation = try await coordinator.client.createInvitation(
                organizationID: organization.id, email: "owner@tenant.test", role: "owner")
            _ = try await coordinator.client(token: nil).acceptInvitation(
                token: invitation.token, password: "owner-password-123")
            let login = try await coordinator.client(token: nil).login(email: "owner@tenant.test", password: "owner-password-123")
            let owner = coordinator.client(token: login.token)
            for path in ["/v1/audit/verify", "/v1/audit/checkpoints"] {
                let reply = try await TestHTTP.request("GET", coordinator.apiURL.appending(path: path), token: login.token)
                #expect(reply.status == 403, "\(path)")
            }
            let visible = try await owner.allAuditEntries()
            #expect(!visible.isEmpty)
            #expect(visible.allSatisfy { $0.organizationId == organization.id }, "\(visible.map(\.action))")
        }
    }
}
