import CHOMCore
import CHOMProtocol
import CHOMStore
import Crypto
import Foundation
import Logging
import SwiftProtobuf

/// Pushes an agent's open tasks down its stream: queued ones are sealed with the
/// agent's next sequence; ones already sealed are re-sent (re-sealed if their envelope
/// is near expiry) after every reconnect until the agent reports a result. A task that
/// exhausts its delivery attempts is failed with the reason, never dropped.
///
/// Secrets are sealed to the agent's X25519 key (`TaskSecrets`) when a task is first sealed, and the
/// stored payload is replaced by the sealed one in the same transaction. A task with a secret for an
/// agent that has no sealing key is never sent: it stays queued, saying so, its payload sealed at rest
/// with the coordinator's key ring (``QueuedTaskPayload``), until the agent registers one (the
/// registration wakes this loop).
struct Dispatcher: Sendable {
    let store: Store
    let signer: EnvelopeSigner
    /// Opens payloads sealed at rest while their agent had no key (``QueuedTaskPayload``).
    let secretBox: SecretBox
    let configuration: CoordinatorConfiguration.Dispatch
    let clock: any WallClock
    let metrics: CoordinatorMetrics
    let logger: Logger

    /// Runs for as long as the stream does. A pass runs when the stream opens and at every wake. A
    /// pass that fails (the database restarting or out of reach, a send on a stream that is closing)
    /// is logged and tried again at the next wake or after its own retry interval: the dispatch of a stream that stays open must never end while its messages are still
    /// handled, or its agent's work would wait until it reconnected.
    func serve(_ connection: AgentConnection) async throws {
        var failing = false
        while !Task.isCancelled, !connection.retired.value {
            // Timed from here to the end of the pass (not the wait after it): see `DispatchPassWatch`.
            connection.pass.begin()
            do {
                // In a child task that ends with the pass: this loop lives as long as the stream and
                // would keep the pass's frames all that time (`inShortLivedTask`).
                let retired = try await inShortLivedTask { try await self.pass(on: connection) }
                if retired {
                    connection.pass.end()
                    return
                }
                if failing { logger.info("dispatch works again", metadata: [LogKey.agentID: "\(connection.agentID)"]) }
                failing = false
            } catch {
                if Task.isCancelled {
                    connection.pass.end()
                    return
                }
                if !failing {
                    logger.warning(
                        "a dispatch pass failed; it is tried again at the next wake or poll",
                        metadata: [LogKey.agentID: "\(connection.agentID)", LogKey.error: "\(String(reflecting: error))"])
                }
                failing = true
            }
            connection.pass.end()
            if failing {
                // Tried again on its own, but after at least a second: a database that is down is
                // not asked in a loop.
                let retry = max(configuration.pollIntervalSeconds, 1)
                await connection.wake.wait(timeout: .milliseconds(Int(retry * 1000)))
            } else {
                // Work is signalled: queued here, published by another replica (`WakeBus`), or found
                // by this replica's one sweep (`DispatchSweepService`) when a notification was lost.
                await connection.wake.wait()
            }
        }
    }

    /// Sends the agent's open tasks that this stream has not sent yet; true when the stream was
    /// retired on the way.
    private func pass(on connection: AgentConnection) async throws -> Bool {
        let sent = connection.sent
        let open = try await store.tasks.open(for: connection.agentID)
        sent.keep(only: Set(open.map(\.id)))
        for task in open where !sent.contains(task.id) {
            guard !connection.retired.value else { return true }
            if try await deliver(task, on: connection) { sent.insert(task.id) }
        }
        return false
    }

    /// False when the task was held back (it waits for the agent's sealing key).
    private func deliver(_ task: TaskRecord, on connection: AgentConnection) async throws -> Bool {
        var logger = logger
        logger[metadataKey: LogKey.taskID] = "\(task.id)"
        if let trace = task.traceParent { logger[metadataKey: LogKey.traceID] = "\(trace.traceID)" }
        logger[metadataKey: LogKey.agentID] = "\(task.agentID)"
        let now = clock.now()
        // A task the agent accepted, or whose envelope is at or below the highest sequence it said
        // it had accepted, is answered from its journal (its result, "accepted" while it runs, a
        // failure for one a restart interrupted) or refused as a replay: a re-send of it is no
        // delivery attempt. Counted, a long task on a flapping link, or one whose result was lost
        // while PostgreSQL restarted, would be failed while the agent ran it or had run it.
        let answered = task.state == .accepted || task.sequence.map { $0 <= connection.acceptedThrough } == true
        let exhausted = answered ? task.answeredResends >= task.answeredResendLimit : task.attempts >= task.maxAttempts
        if exhausted {
            // Answered re-sends are bounded too: an answer that can never be recorded (the stream ends
            // at each try) must not bring the task back on every reconnect forever.
            let reason = answered
                ? "delivery limit reached: re-sent \(task.answeredResends) times to an agent that answers it from its journal, and no answer was recorded"
                : "delivery limit reached: sent \(task.attempts) times without a result"
            try await store.tasks.finish(
                task.id, agent: task.agentID, report: .failure(reason), now: now,
                audit: TaskAudit.outcome(agent: task.agentID, now: now, actor: "system"))
            metrics.taskFinished(kind: task.kind.rawValue, outcome: "failed")
            logger.warning("task failed its delivery limit")
            return true
        }
        let envelopeBytes: [UInt8]
        if let envelope = task.envelope, let expires = task.envelopeExpiresAt,
            expires.timeIntervalSince(now) > configuration.envelopeTTLSeconds / 4
        {
            try await store.tasks.markResent(task.id, counted: !answered, now: now)
            envelopeBytes = envelope
        } else {
            let queued: [UInt8]
            do {
                queued = try QueuedTaskPayload.open(task.payload, box: secretBox, task: task.id)
            } catch .unknownKeyID(let keyID) {
                // Sealed under a key this replica's ring does not hold yet (rotate-secrets-key ran,
                // this coordinator was not restarted): it waits, saying so, and is tried again.
                try await store.tasks.markWaiting(
                    task.id, message: "waiting: the payload is sealed under key \(keyID), which this coordinator does not hold (restart it after rotate-secrets-key)",
                    now: now)
                logger.warning("queued payload sealed under an unknown key", metadata: ["chom.key_id": "\(keyID)"])
                return false
            } catch {
                // It does not open (damaged, or copied from another row): the task fails with the
                // reason instead of stopping the agent's stream at every attempt.
                let reason = "the queued payload of task \(task.id) cannot be opened: \(error)"
                try await store.tasks.finish(
                    task.id, agent: task.agentID, report: .failure(reason), now: now,
                    audit: TaskAudit.outcome(agent: task.agentID, now: now, actor: "system"))
                metrics.taskFinished(kind: task.kind.rawValue, outcome: "failed")
                logger.error("queued payload cannot be opened", metadata: [LogKey.error: "\(reason)"])
                return true
            }
            var taskMessage = try Chom_Agent_V1_Task(serializedBytes: queued)
            var sealedPayload: [UInt8]?
            if TaskSecrets.hasClearSecret(taskMessage) {
                guard let raw = try await store.agents.sealingKey(task.agentID),
                    let recipient = SecretSealing.publicKey(raw: raw)
                else {
                    try await store.tasks.markWaiting(task.id, message: TaskQueue.waitingForSealingKey(task.agentID), now: now)
                    logger.info("task waits for the agent's sealing key")
                    return false
                }
                try TaskSecrets.seal(&taskMessage, to: recipient, audience: task.agentID.description)
                sealedPayload = try taskMessage.serializedBytes()
            } else if QueuedTaskPayload.isSealedAtRest(task.payload) {
                // Nothing secret after all (a backup without a key): stored as the task it is.
                sealedPayload = try taskMessage.serializedBytes()
            }
            let sealed = try await store.tasks.sealAndMarkSent(task, payload: sealedPayload, counted: !answered, now: now) { sequence in
                let envelope = try EnvelopeSealer.seal(
                    task: taskMessage, audience: task.agentID, sequence: UInt64(sequence),
                    ttl: configuration.envelopeTTLSeconds, signer: signer, now: now,
                    trace: task.traceParent.map(Self.traceContext))
                let bytes: [UInt8] = try envelope.serializedBytes()
                return (bytes, now.addingTimeInterval(configuration.envelopeTTLSeconds))
            }
            envelopeBytes = sealed.envelope ?? []
            logger.debug("sealed task", metadata: [LogKey.sequence: "\(sealed.sequence ?? 0)"])
        }
        var message = Chom_Agent_V1_CoordinatorMessage()
        message.envelope = try Chom_Agent_V1_Envelope(serializedBytes: envelopeBytes)
        do {
            try await connection.send(message)
        } catch {
            // The stream is broken: the agent's next stream (here or on another replica) re-sends it.
            connection.retire()
            throw error
        }
        metrics.taskDispatched(kind: task.kind.rawValue)
        return true
    }
}

extension Dispatcher {
    /// The envelope's trace context: the queuing request's span is the agent's work's parent.
    static func traceContext(_ trace: TraceParent) -> Chom_Agent_V1_TraceContext {
        var context = Chom_Agent_V1_TraceContext()
        context.traceparent = trace.description
        return context
    }
}
