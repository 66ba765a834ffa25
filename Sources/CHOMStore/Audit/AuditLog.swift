package import CHOMAudit
package import CHOMCore
import Crypto
package import Foundation
import Logging
import PostgresNIO

/// What a reader may see of the audit log, and how to filter it.
package struct AuditQuery: Sendable {
    /// nil: every entry (platform operators). Otherwise entries of these organizations whose
    /// tenant is unset or one of `tenantIDs` (nil: any tenant of those organizations).
    package var organizationIDs: [OrganizationID]?
    package var tenantIDs: [TenantID]?
    package var action: String?
    package var actor: String?
    package var since: Date?
    package var until: Date?
    /// Entries with a smaller sequence than this (pages go newest first).
    package var before: Int64?
    package var limit: Int

    package init(
        organizationIDs: [OrganizationID]?, tenantIDs: [TenantID]? = nil, action: String? = nil, actor: String? = nil,
        since: Date? = nil, until: Date? = nil, before: Int64? = nil, limit: Int = 50
    ) {
        self.organizationIDs = organizationIDs
        self.tenantIDs = tenantIDs
        self.action = action
        self.actor = actor
        self.since = since
        self.until = until
        self.before = before
        self.limit = limit
    }
}

/// The audit tables: stage (inside a write transaction), chain (right after its commit), read,
/// walk, checkpoints.
/// The database refuses UPDATE, DELETE and TRUNCATE on them (triggers in migration 3).
package struct AuditLog: Sendable {
    /// The advisory lock every chaining run and checkpoint takes (transaction-scoped).
    package static let appendLockKey: Int64 = 0x4348_4F4D_0A0D

    let client: PostgresClient
    let logger: Logger
    let settings: AuditSettings

    /// Stages `entry` in the caller's transaction: it commits with the change or not at all, and
    /// joins the hash chain at the next `chainPending` (every write runs one right after its commit;
    /// the leader's housekeeping runs one too, for entries a crash left staged).
    static func stage(_ entry: AuditEntry, on connection: PostgresConnection, logger: Logger) async throws {
        let details = String(decoding: try detailsEncoder.encode(entry.details), as: UTF8.self)
        try await connection.query("""
            INSERT INTO audit_pending (time, actor, organization_id, tenant_id, action, target, request_id,
                source_address, details)
            VALUES (\(entry.time), \(entry.actor), \(entry.organizationID), \(entry.tenantID), \(entry.action),
                \(entry.target), \(entry.requestID), \(entry.sourceAddress), \(details))
            """, logger: logger)
    }

    /// How many staged entries one chaining transaction takes at most.
    static let chainBatch = 500

    /// Moves every staged entry into the hash chain, oldest first: transactions under the append
    /// lock (a transaction-scoped advisory lock), so sequences are gap-free and each entry links to
    /// the one before it; a checkpoint due by count is signed in the same transaction. Writers that
    /// committed meanwhile wait on the lock and then find their entries chained: many writes' entries
    /// go in under one lock and one fsync (group commit). Returns how many were chained.
    @discardableResult
    static func chainPending(client: PostgresClient, settings: AuditSettings, now: Date, logger: Logger) async throws -> Int {
        var chained = 0
        while true {
            let count = try await client.transaction(logger: logger) { connection -> Int in
                try await connection.query("SELECT pg_advisory_xact_lock(\(appendLockKey))", logger: logger)
                // Round trips are what a chaining run costs (it holds the append lock throughout):
                // the staged entries come with the chain's head (read after the lock, so current),
                // and the chained ones go in with their staged rows' removal in one statement.
                let rows = try await connection.query("""
                    WITH head AS (SELECT sequence, hash FROM audit_entries ORDER BY sequence DESC LIMIT 1)
                    SELECT p.*, head.sequence AS head_sequence, head.hash AS head_hash
                    FROM audit_pending p LEFT JOIN head ON true ORDER BY p.id LIMIT \(chainBatch)
                    """, logger: logger)
                var staged: [(id: Int64, entry: AuditEntry)] = []
                var head = AuditChain.Head.genesis
                for try await row in rows {
                    let row = row.makeRandomAccess()
                    if staged.isEmpty, let sequence: Int64 = try row.value("head_sequence") {
                        let hash: ByteBuffer = try row.value("head_hash")
                        head = AuditChain.Head(sequence: sequence, hash: Array(buffer: hash))
                    }
                    staged.append(try decodePending(row))
                }
                guard !staged.isEmpty else {
                    // Another chainer may have taken this writer's entries without a signing key.
                    try await checkpointIfDue(settings: settings, now: now, on: connection, logger: logger, locked: true)
                    return 0
                }
                var chainedEntries: [StoredAuditEntry] = []
                chainedEntries.reserveCapacity(staged.count)
                for (_, entry) in staged {
                    let stored = AuditChain.append(entry, after: head)
                    chainedEntries.append(stored)
                    head = AuditChain.Head(sequence: stored.entry.sequence, hash: stored.hash)
                }
                try await insert(chainedEntries, removingStaged: staged.map(\.id), on: connection, logger: logger)
                try await checkpointIfDue(settings: settings, now: now, on: connection, logger: logger, locked: true, head: head)
                return staged.count
            }
            chained += count
            if count < chainBatch { return chained }
        }
    }

    /// Chains what is staged, for readers: the log they read holds every committed change.
    package func chainPending(now: Date = Date()) async throws {
        try await Self.chainPending(client: client, settings: settings, now: now, logger: logger)
    }

    /// How many entries are staged and not yet chained.
    package func pendingCount() async throws -> Int {
        for try await count in try await client.query(
            "SELECT count(*)::integer FROM audit_pending", logger: logger
        ).decode(Int.self) { return count }
        return 0
    }

    /// Inserts chained entries in one statement (one round trip under the append lock, however
    /// many writers' entries the run took).
    /// The staged rows `removingStaged` are deleted by the same statement.
    private static func insert(
        _ chained: [StoredAuditEntry], removingStaged staged: [Int64], on connection: PostgresConnection, logger: Logger
    ) async throws {
        guard !chained.isEmpty else { return }
        var binds = PostgresBindings(capacity: chained.count * 12 + 1)
        binds.append(staged)
        var rows: [String] = []
        rows.reserveCapacity(chained.count)
        for stored in chained {
            let e = stored.entry
            let first = binds.count + 1
            rows.append("(" + (first..<first + 12).map { "$\($0)" }.joined(separator: ", ") + ")")
            binds.append(e.sequence)
            binds.append(e.time)
            binds.append(e.actor)
            binds.append(e.organizationID)
            binds.append(e.tenantID)
            binds.append(e.action)
            binds.append(e.target)
            binds.append(e.requestID)
            binds.append(e.sourceAddress)
            binds.append(String(decoding: try detailsEncoder.encode(e.details), as: UTF8.self))
            binds.append(ByteBuffer(bytes: stored.previousHash))
            binds.append(ByteBuffer(bytes: stored.hash))
        }
        try await connection.query(PostgresQuery(unsafeSQL: """
            WITH chained AS (DELETE FROM audit_pending WHERE id = ANY($1))
            INSERT INTO audit_entries (sequence, time, actor, organization_id, tenant_id, action, target,
                request_id, source_address, details, previous_hash, hash)
            VALUES \(rows.joined(separator: ", "))
            """, binds: binds), logger: logger)
    }

    static func decodePending(_ row: PostgresRandomAccessRow) throws -> (id: Int64, entry: AuditEntry) {
        let details = try details(try row.value("details"), of: "a staged audit entry's details")
        let entry = AuditEntry(
            time: try row.value("time"), actor: try row.value("actor"),
            organizationID: try row.value("organization_id"), tenantID: try row.value("tenant_id"),
            action: try row.value("action"), target: try row.value("target"), requestID: try row.value("request_id"),
            sourceAddress: try row.value("source_address"), details: details)
        return (try row.value("id"), entry)
    }

    static func head(on connection: PostgresConnection, logger: Logger) async throws -> AuditChain.Head {
        let rows = try await connection.query(
            "SELECT sequence, hash FROM audit_entries ORDER BY sequence DESC LIMIT 1", logger: logger)
        for try await (sequence, hash) in rows.decode((Int64, ByteBuffer).self) {
            return AuditChain.Head(sequence: sequence, hash: Array(buffer: hash))
        }
        return .genesis
    }

    /// Signs a checkpoint of the head when one is due (by count or age). Runs inside the
    /// appending transaction, and from housekeeping for the age rule.
    /// `locked`: the caller holds the append lock already; `head`: the head it just wrote.
    static func checkpointIfDue(
        settings: AuditSettings, now: Date, on connection: PostgresConnection, logger: Logger,
        locked: Bool = false, head known: AuditChain.Head? = nil
    ) async throws {
        guard let key = settings.signingKey else { return }
        if !locked {
            try await connection.query("SELECT pg_advisory_xact_lock(\(appendLockKey))", logger: logger)
        }
        let head: AuditChain.Head
        if let known {
            head = known
        } else {
            head = try await Self.head(on: connection, logger: logger)
        }
        let last = try await latestCheckpoint(on: connection, logger: logger)
        guard AuditCheckpoint.isDue(
            last: last, head: head, now: now, everyEntries: settings.everyEntries, everyInterval: settings.everyInterval)
        else { return }
        let checkpoint = try AuditCheckpoint.sign(head: head, time: AuditTimestamp.normalized(now), key: key)
        try await connection.query("""
            INSERT INTO audit_checkpoints (sequence, head_hash, time, key_id, signature)
            VALUES (\(checkpoint.sequence), \(ByteBuffer(bytes: checkpoint.headHash)), \(checkpoint.time),
                \(checkpoint.keyID), \(ByteBuffer(bytes: checkpoint.signature)))
            """, logger: logger)
    }

    /// The age rule when nothing is being appended; staged entries are chained first.
    package func checkpointIfDue(now: Date) async throws {
        try await Self.chainPending(client: client, settings: settings, now: now, logger: logger)
        guard settings.signingKey != nil else { return }
        try await client.transaction(logger: logger) { connection in
            try await Self.checkpointIfDue(settings: settings, now: now, on: connection, logger: logger)
        }
    }

    static func latestCheckpoint(on connection: PostgresConnection, logger: Logger) async throws -> AuditCheckpoint? {
        let rows = try await connection.query(
            "SELECT * FROM audit_checkpoints ORDER BY sequence DESC LIMIT 1", logger: logger)
        for try await row in rows { return try decodeCheckpoint(row.makeRandomAccess()) }
        return nil
    }

    package func checkpoints(after sequence: Int64 = 0) async throws -> [AuditCheckpoint] {
        var checkpoints: [AuditCheckpoint] = []
        let rows = try await client.query(
            "SELECT * FROM audit_checkpoints WHERE sequence > \(sequence) ORDER BY sequence", logger: logger)
        for try await row in rows { checkpoints.append(try Self.decodeCheckpoint(row.makeRandomAccess())) }
        return checkpoints
    }

    /// A page of entries, newest first.
    package func list(_ query: AuditQuery) async throws -> [StoredAuditEntry] {
        try await chainPending()
        let everything = query.organizationIDs == nil
        let organizations = (query.organizationIDs ?? []).map(\.description)
        let anyTenant = query.tenantIDs == nil
        let tenants = (query.tenantIDs ?? []).map(\.description)
        let rows = try await client.query("""
            SELECT * FROM audit_entries
            WHERE (\(everything) OR (organization_id = ANY(\(organizations))
                    AND (tenant_id IS NULL OR \(anyTenant) OR tenant_id = ANY(\(tenants)))))
              AND (\(query.action)::text IS NULL OR action = \(query.action)::text)
              AND (\(query.actor)::text IS NULL OR actor = \(query.actor)::text)
              AND (\(query.since)::timestamptz IS NULL OR time >= \(query.since)::timestamptz)
              AND (\(query.until)::timestamptz IS NULL OR time < \(query.until)::timestamptz)
              AND (\(query.before)::bigint IS NULL OR sequence < \(query.before)::bigint)
            ORDER BY sequence DESC LIMIT \(query.limit)
            """, logger: logger)
        var entries: [StoredAuditEntry] = []
        for try await row in rows { entries.append(try Self.decodeEntry(row.makeRandomAccess())) }
        return entries
    }

    /// Every entry in sequence order, in batches of `batchSize`, for verification. Columns are read
    /// by position (`walkColumns`) and the details by `AuditDetailsJSON`: this walk is what
    /// `chom audit verify` and the self-check spend their time in.
    package func walk(batchSize: Int = 10_000, _ body: (StoredAuditEntry) throws -> Bool) async throws {
        try await chainPending()
        var after: Int64 = 0
        while true {
            let rows = try await client.query(
                "SELECT \(unescaped: Self.walkColumns) FROM audit_entries WHERE sequence > \(after) ORDER BY sequence LIMIT \(batchSize)",
                logger: logger)
            var count = 0
            for try await row in rows {
                let stored = try Self.decodeWalked(row)
                count += 1
                after = stored.sequence
                guard try body(stored) else { return }
            }
            if count < batchSize { return }
        }
    }

    /// The columns `decodeWalked` reads, in its order.
    static let walkColumns = """
        sequence, time, actor, organization_id, tenant_id, action, target, request_id, source_address, details, \
        previous_hash, hash
        """

    static func decodeWalked(_ row: PostgresRow) throws -> StoredAuditEntry {
        let (sequence, time, actor, organizationID, tenantID, action, target, requestID, sourceAddress, detailsText,
             previous, hash) = try row.decode(
                (Int64, Date, String, String?, String?, String, String, String, String, String, ByteBuffer, ByteBuffer).self)
        let entry = AuditEntry(
            sequence: sequence, time: time, actor: actor, organizationID: organizationID, tenantID: tenantID,
            action: action, target: target, requestID: requestID, sourceAddress: sourceAddress,
            details: try details(detailsText))
        return StoredAuditEntry(entry: entry, previousHash: Array(buffer: previous), hash: Array(buffer: hash))
    }

    /// An entry's details: the log's own shape read directly, anything else decided by JSONDecoder.
    static func details(_ text: String, of what: String = "audit entry details") throws -> [String: String] {
        if let details = AuditDetailsJSON.parse(text) { return details }
        guard let details = try? JSONDecoder().decode([String: String].self, from: Data(text.utf8)) else {
            throw CHOMError(.integrity, "\(what) are not a JSON object of strings")
        }
        return details
    }

    package func head() async throws -> AuditChain.Head {
        try await chainPending()
        return try await client.withConnection { try await Self.head(on: $0, logger: logger) }
    }

    static let detailsEncoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    static func decodeEntry(_ row: PostgresRandomAccessRow) throws -> StoredAuditEntry {
        let details = try details(try row.value("details"))
        let entry = AuditEntry(
            sequence: try row.value("sequence"), time: try row.value("time"), actor: try row.value("actor"),
            organizationID: try row.value("organization_id"), tenantID: try row.value("tenant_id"),
            action: try row.value("action"), target: try row.value("target"), requestID: try row.value("request_id"),
            sourceAddress: try row.value("source_address"), details: details)
        let previous: ByteBuffer = try row.value("previous_hash")
        let hash: ByteBuffer = try row.value("hash")
        return StoredAuditEntry(entry: entry, previousHash: Array(buffer: previous), hash: Array(buffer: hash))
    }

    static func decodeCheckpoint(_ row: PostgresRandomAccessRow) throws -> AuditCheckpoint {
        let head: ByteBuffer = try row.value("head_hash")
        let signature: ByteBuffer = try row.value("signature")
        return AuditCheckpoint(
            sequence: try row.value("sequence"), headHash: Array(buffer: head), time: try row.value("time"),
            keyID: try row.value("key_id"), signature: Array(buffer: signature))
    }
}
