package import CHOMAudit
package import CHOMCore
package import Foundation
import Logging
import PostgresNIO

/// The durable task queue. A task is inserted in the transaction of the change that
/// causes it (its secrets sealed to its agent, or, while the agent has no key, the whole payload
/// sealed at rest), sealed when it is first sent, re-sent after reconnects until its agent
/// reports a result, and failed (never dropped) when it runs out of delivery attempts.
package struct TaskQueue: Sendable {
    let client: PostgresClient
    let logger: Logger
    /// For chaining its audit entries after its transactions (checkpoints by count are signed then).
    var auditSettings = AuditSettings()

    /// The progress step of a task that carries a secret while its agent has no sealing key.
    package static let waitingStep = "waiting"

    /// The message such a task shows until its agent registers a sealing key.
    package static func waitingForSealingKey(_ agent: AgentID) -> String {
        "waiting: agent \(agent) has no sealing key yet"
    }

    /// The task as stored (queued), from the insert itself: no second read.
    @discardableResult
    static func insert(_ task: NewTask, now: Date, on connection: PostgresConnection, logger: Logger) async throws -> TaskRecord {
        var task = task
        if task.carriesSecret {
            var agentKey: [UInt8]?
            let rows = try await connection.query(
                "SELECT sealing_public_key FROM agents WHERE id = \(task.agentID.uuid)", logger: logger)
            for try await key in rows.decode(ByteBuffer?.self) { agentKey = key.map { Array(buffer: $0) } }
            if let agentKey, let seal = task.sealPayload {
                task.payload = try seal(agentKey)
            } else if agentKey == nil, let seal = task.sealAtRest {
                task.payload = seal(task.payload)
            }
        }
        // A task with a secret for an agent without a sealing key says so from the start.
        let waitingLog = Self.waitingForSealingKey(task.agentID)
        let rows = try await connection.query("""
            INSERT INTO tasks (id, agent_id, site_id, release_id, kind, payload, max_attempts, backup_id, suspended,
                               carries_secret, traceparent, progress_step, progress_log, result_message, created_at, updated_at)
            SELECT \(task.id.uuid), \(task.agentID.uuid), \(task.siteID?.uuid), \(task.releaseID?.uuid),
                    \(task.kind.rawValue), \(ByteBuffer(bytes: task.payload)), \(task.maxAttempts),
                    \(task.backupID?.uuid), \(task.suspended), \(task.carriesSecret), \(task.traceParent?.description),
                    CASE WHEN w.waiting THEN \(Self.waitingStep) END, CASE WHEN w.waiting THEN \(waitingLog) END,
                    CASE WHEN w.waiting THEN \(waitingLog) END,
                    \(now), \(now)
            FROM (SELECT \(task.carriesSecret) AND NOT EXISTS (
                    SELECT 1 FROM agents WHERE id = \(task.agentID.uuid) AND sealing_public_key IS NOT NULL) AS waiting) w
            RETURNING *
            """, logger: logger)
        for try await row in rows { return try Self.decode(row.makeRandomAccess()) }
        throw CHOMError(.internal, "task \(task.id) was not stored")
    }

    /// Shows why a task is held back (its agent has no sealing key yet): step `waiting`, and the
    /// message as its progress log and its message until it is sent.
    package func markWaiting(_ id: TaskID, message: String, now: Date) async throws {
        try await client.query("""
            UPDATE tasks SET progress_step = \(Self.waitingStep), progress_log = \(message), result_message = \(message),
                updated_at = \(now)
            WHERE id = \(id.uuid) AND state = 'queued'
              AND (progress_step IS DISTINCT FROM \(Self.waitingStep) OR progress_log IS DISTINCT FROM \(message))
            """, logger: logger)
    }

    /// (id, payload) of every queued task whose payload is sealed at rest (`chomsec:` text: its
    /// agent had no sealing key), for `rotate-secrets-key`.
    package func sealedAtRest() async throws -> [(TaskID, [UInt8])] {
        let rows = try await client.query("""
            SELECT id, payload FROM tasks WHERE state = 'queued' AND substring(payload FROM 1 FOR 8) = 'chomsec:'::bytea
            """, logger: logger)
        var result: [(TaskID, [UInt8])] = []
        for try await (id, payload) in rows.decode((UUID, ByteBuffer).self) { result.append((TaskID(id), Array(buffer: payload))) }
        return result
    }

    /// Replaces a queued task's sealed payload if it is still the one that was read.
    package func resealPayload(_ id: TaskID, from old: [UInt8], to new: [UInt8], in transaction: AuditedTransaction) async throws -> Bool {
        let rows = try await transaction.connection.query("""
            UPDATE tasks SET payload = \(ByteBuffer(bytes: new))
            WHERE id = \(id.uuid) AND state = 'queued' AND payload = \(ByteBuffer(bytes: old)) RETURNING id
            """, logger: logger)
        for try await _ in rows { return true }
        return false
    }

    /// Queues `task` in `transaction` (with the audit entry the caller records there).
    @discardableResult
    package func enqueue(_ task: NewTask, now: Date, in transaction: AuditedTransaction) async throws -> TaskRecord {
        try await Self.insert(task, now: now, on: transaction.connection, logger: logger)
    }

    package func enqueue(_ task: NewTask, now: Date) async throws {
        _ = try await client.withConnection { connection in
            try await Self.insert(task, now: now, on: connection, logger: logger)
        }
    }

    package func get(_ id: TaskID) async throws -> TaskRecord? {
        let rows = try await client.query("SELECT * FROM tasks WHERE id = \(id.uuid)", logger: logger)
        for try await row in rows { return try Self.decode(row.makeRandomAccess()) }
        return nil
    }

    /// Tasks of an agent that still await a result, oldest first.
    package func open(for agent: AgentID, onlyQueued: Bool = false) async throws -> [TaskRecord] {
        let states = onlyQueued ? "('queued')" : "('queued', 'sent', 'accepted')"
        let rows = try await client.query(
            "SELECT * FROM tasks WHERE agent_id = \(agent.uuid) AND state IN \(unescaped: states) ORDER BY created_at, id",
            logger: logger)
        var tasks: [TaskRecord] = []
        for try await row in rows { tasks.append(try Self.decode(row.makeRandomAccess())) }
        return tasks
    }

    /// The queued and sent tasks of `agents`: one query for every stream a replica holds.
    package func undelivered(among agents: [AgentID]) async throws -> [(agent: AgentID, task: TaskID, queued: Bool)] {
        guard !agents.isEmpty else { return [] }
        let rows = try await client.query(
            "SELECT agent_id, id, state = 'queued' FROM tasks WHERE state IN ('queued', 'sent') AND agent_id = ANY(\(agents.map(\.uuid)))",
            logger: logger)
        var result: [(agent: AgentID, task: TaskID, queued: Bool)] = []
        for try await (agent, id, queued) in rows.decode((UUID, UUID, Bool).self) {
            result.append((AgentID(agent), TaskID(id), queued))
        }
        return result
    }

    /// Seals a task under the agent's next sequence and records the envelope, in one
    /// transaction. `seal` gets the sequence and returns the envelope bytes and expiry.
    /// `payload`, when given, replaces the stored payload (the task with its secrets sealed to the agent).
    package func sealAndMarkSent(
        _ task: TaskRecord, payload: [UInt8]? = nil, counted: Bool = true, now: Date,
        seal: (Int64) throws -> (envelope: [UInt8], expiresAt: Date)
    ) async throws -> TaskRecord {
        try await client.transaction(logger: logger) { connection in
            let sequence = try await AgentRepository.takeSequence(task.agentID, on: connection, logger: logger)
            let (envelope, expiresAt) = try seal(sequence)
            try await connection.query("""
                UPDATE tasks SET sequence = \(sequence), envelope = \(ByteBuffer(bytes: envelope)),
                    envelope_expires_at = \(expiresAt),
                    attempts = attempts + CASE WHEN state = 'accepted' OR NOT \(counted) THEN 0 ELSE 1 END,
                    answered_resends = answered_resends + CASE WHEN state = 'accepted' OR NOT \(counted) THEN 1 ELSE 0 END,
                    state = CASE WHEN state = 'queued' THEN 'sent' ELSE state END,
                    payload = COALESCE(\(payload.map { ByteBuffer(bytes: $0) }), payload),
                    progress_step = CASE WHEN progress_step = \(Self.waitingStep) THEN NULL ELSE progress_step END,
                    progress_log = CASE WHEN progress_step = \(Self.waitingStep) THEN NULL ELSE progress_log END,
                    result_message = CASE WHEN progress_step = \(Self.waitingStep) THEN NULL ELSE result_message END,
                    sent_at = \(now), updated_at = \(now)
                WHERE id = \(task.id.uuid)
                """, logger: logger)
            var sent = task
            if let payload { sent.payload = payload }
            if sent.progressStep == Self.waitingStep {
                (sent.progressStep, sent.progressLog, sent.resultMessage) = (nil, nil, nil)
            }
            sent.sequence = sequence
            sent.envelope = envelope
            sent.envelopeExpiresAt = expiresAt
            if counted, sent.state != .accepted { sent.attempts += 1 } else { sent.answeredResends += 1 }
            if sent.state == .queued { sent.state = .sent }
            sent.sentAt = now
            return sent
        }
    }

    /// Records a re-send of the already sealed envelope, counted as a delivery attempt unless the
    /// agent accepted the task or `counted` is false (it answers such a re-send from its journal);
    /// those count as answered re-sends instead.
    package func markResent(_ id: TaskID, counted: Bool = true, now: Date) async throws {
        try await client.query("""
            UPDATE tasks SET attempts = attempts + CASE WHEN state = 'accepted' OR NOT \(counted) THEN 0 ELSE 1 END,
                answered_resends = answered_resends + CASE WHEN state = 'accepted' OR NOT \(counted) THEN 1 ELSE 0 END,
                sent_at = \(now), updated_at = \(now)
            WHERE id = \(id.uuid)
            """, logger: logger)
    }

    /// Marks a task accepted, and the backup it makes (if any) running.
    package func markAccepted(_ id: TaskID, agent: AgentID, now: Date) async throws {
        try await client.query("""
            WITH accepted AS (
                UPDATE tasks SET state = 'accepted', accepted_at = \(now), updated_at = \(now)
                WHERE id = \(id.uuid) AND agent_id = \(agent.uuid) AND state IN ('queued', 'sent')
                RETURNING id
            )
            UPDATE backups SET state = 'running' WHERE task_id IN (SELECT id FROM accepted) AND state = 'queued'
            """, logger: logger)
    }

    package func recordProgress(_ id: TaskID, agent: AgentID, step: String, log: String, now: Date) async throws {
        try await client.query("""
            UPDATE tasks SET progress_step = \(step), progress_log = \(log), updated_at = \(now)
            WHERE id = \(id.uuid) AND agent_id = \(agent.uuid) AND state IN ('queued', 'sent', 'accepted')
            """, logger: logger)
    }

    /// Records a task's final state and what it changed (`TaskResultRecorder`: the site's release,
    /// state or suspension, the backup row, pruned backups) in one transaction, with its audit entry
    /// (`audit` builds it from the finished task). A task that carried a secret (a site's TLS key, a
    /// tenant's backup key, a bucket secret) has its payload and envelope erased: it is final and
    /// never sent again.
    /// Returns nil if the task was unknown, foreign or already final.
    @discardableResult
    package func finish(
        _ id: TaskID, agent: AgentID, report: TaskReport, now: Date,
        audit: @Sendable (TaskRecord, TenantID?, OrganizationID?) -> AuditEntry?
    ) async throws -> TaskRecord? {
        let finished = try await client.transaction(logger: logger) { connection -> TaskRecord? in
            let rows = try await connection.query("""
                SELECT * FROM tasks WHERE id = \(id.uuid) AND agent_id = \(agent.uuid)
                  AND state IN ('queued', 'sent', 'accepted')
                FOR UPDATE
                """, logger: logger)
            var open: TaskRecord?
            for try await row in rows { open = try Self.decode(row.makeRandomAccess()) }
            guard let open else { return nil }
            let report = report.checked(for: open.kind, expectsBackup: open.backupID != nil)
            let state = report.succeeded ? "succeeded" : "failed"
            let finishedRows = try await connection.query("""
                UPDATE tasks SET state = \(state), result_message = \(report.message),
                    payload = CASE WHEN carries_secret THEN '\\x'::bytea ELSE payload END,
                    envelope = CASE WHEN carries_secret THEN NULL ELSE envelope END,
                    release_path = \(report.releasePath), result_release_id = \(report.releaseID?.uuid),
                    failed_step = \(report.failedStep), result_lines = \(report.siteLogs?.lines),
                    result_truncated = \(report.siteLogs?.truncated ?? false),
                    result_log_position = \(report.siteLogs?.position?.description),
                    result_log_gap = \(report.siteLogs?.gap ?? false), finished_at = \(now), updated_at = \(now)
                WHERE id = \(id.uuid)
                RETURNING *
                """, logger: logger)
            var finished = open
            for try await row in finishedRows { finished = try Self.decode(row.makeRandomAccess()) }
            var tenant: TenantID?
            var organization: OrganizationID?
            if let site = finished.siteID {
                let rows = try await connection.query("""
                    SELECT s.tenant_id, t.organization_id FROM sites s JOIN tenants t ON t.id = s.tenant_id
                    WHERE s.id = \(site.uuid)
                    """, logger: logger)
                for try await (tenantID, organizationID) in rows.decode((UUID, UUID).self) {
                    tenant = TenantID(tenantID)
                    organization = OrganizationID(organizationID)
                }
            }
            if let entry = audit(finished, tenant, organization) {
                try await AuditLog.stage(entry, on: connection, logger: logger)
            }
            try await TaskResultRecorder(connection: connection, logger: logger, now: now)
                .apply(report, of: finished)
            return finished
        }
        if finished != nil { await Store(client: client, logger: logger, audit: auditSettings).chainAudit(now: now) }
        return finished
    }

    /// Counts of tasks by state, for metrics.
    package func countByState() async throws -> [TaskState: Int] {
        var counts: [TaskState: Int] = [:]
        let rows = try await client.query("SELECT state, count(*)::integer FROM tasks GROUP BY state", logger: logger)
        for try await (state, count) in rows.decode((String, Int).self) {
            if let state = TaskState(rawValue: state) { counts[state] = count }
        }
        return counts
    }

    static func decode(_ row: PostgresRandomAccessRow) throws -> TaskRecord {
        let id: UUID = try row.value("id")
        let agent: UUID = try row.value("agent_id")
        let site: UUID? = try row.value("site_id")
        let release: UUID? = try row.value("release_id")
        let kind: String = try row.value("kind")
        let state: String = try row.value("state")
        let payload: ByteBuffer = try row.value("payload")
        let envelope: ByteBuffer? = try row.value("envelope")
        return TaskRecord(
            id: TaskID(id), agentID: AgentID(agent), siteID: site.map { SiteID($0) },
            releaseID: release.map { ReleaseID($0) }, kind: TaskKindName(rawValue: kind) ?? .deploy,
            payload: Array(buffer: payload), state: TaskState(rawValue: state) ?? .failed,
            sequence: try row.value("sequence"), envelope: envelope.map { Array(buffer: $0) },
            envelopeExpiresAt: try row.value("envelope_expires_at"), attempts: try row.value("attempts"),
            maxAttempts: try row.value("max_attempts"), answeredResends: try row.value("answered_resends"),
            progressStep: try row.value("progress_step"),
            progressLog: try row.value("progress_log"), resultMessage: try row.value("result_message"),
            releasePath: try row.value("release_path"), createdAt: try row.value("created_at"),
            sentAt: try row.value("sent_at"), acceptedAt: try row.value("accepted_at"),
            finishedAt: try row.value("finished_at"), backupID: (try row.value("backup_id", as: UUID?.self)).map { BackupID($0) },
            resultReleaseID: (try row.value("result_release_id", as: UUID?.self)).map { ReleaseID($0) },
            failedStep: try row.value("failed_step"), suspended: try row.value("suspended"),
            traceParent: (try row.value("traceparent", as: String?.self)).flatMap { TraceParent(header: $0) })
    }
}
