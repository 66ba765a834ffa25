package import CHOMCore
package import CHOMProtocol
package import Crypto
import Foundation
package import Logging
import SwiftProtobuf

/// Turns one incoming envelope into the messages the agent sends back, with no gRPC in sight.
///
/// `triage` opens the envelope against the journal's replay window and either answers at once
/// (a refusal, or a duplicate answered from the journal) or journals the task as accepted and
/// hands it back to run. `run` executes it, journals the outcome and builds the `TaskResult`.
/// The session calls them one envelope at a time.
package struct EnvelopeHandler: Sendable {
    package var opener: EnvelopeOpener
    package var journal: Journal
    package var executor: any TaskExecutor
    package var metrics: AgentMetrics
    package var ledger: ExecutionLedger
    package var clock: any WallClock
    package var logger: Logger
    /// The agent's X25519 key: sealed secrets in a task are opened with it, after the envelope verified.
    package var sealingKey: Curve25519.KeyAgreement.PrivateKey?
    /// Forwards each task's lines to the syslog collector, when log forwarding is on.
    package var taskLog: TaskLogForwarder?

    package init(
        opener: EnvelopeOpener, journal: Journal, executor: any TaskExecutor, metrics: AgentMetrics,
        ledger: ExecutionLedger, clock: any WallClock, logger: Logger,
        sealingKey: Curve25519.KeyAgreement.PrivateKey? = nil, taskLog: TaskLogForwarder? = nil
    ) {
        self.sealingKey = sealingKey
        self.taskLog = taskLog
        self.opener = opener
        self.journal = journal
        self.executor = executor
        self.metrics = metrics
        self.ledger = ledger
        self.clock = clock
        self.logger = logger
    }

    package enum Triage: Sendable {
        /// Send these and do nothing else.
        case answer([Chom_Agent_V1_AgentMessage])
        /// Journaled as accepted: send `accepted`, then `run` the task.
        case run(OpenedEnvelope, accepted: Chom_Agent_V1_AgentMessage)
    }

    /// Emits every message for `envelope` as it is produced (accepted, progress…, result).
    package func handle(_ envelope: Chom_Agent_V1_Envelope, emit: @Sendable (Chom_Agent_V1_AgentMessage) async -> Void) async {
        switch triage(envelope) {
        case .answer(let messages):
            for message in messages { await emit(message) }
        case .run(let opened, let accepted):
            await emit(accepted)
            await emit(await run(opened, emit: emit))
        }
    }

    /// All messages for `envelope`, in order.
    package func handle(_ envelope: Chom_Agent_V1_Envelope) async -> [Chom_Agent_V1_AgentMessage] {
        let collected = MessageCollector()
        await handle(envelope) { collected.append($0) }
        return collected.messages
    }

    package func triage(_ envelope: Chom_Agent_V1_Envelope) -> Triage {
        var window = journal.window
        var opened: OpenedEnvelope
        do {
            opened = try opener.open(envelope, replay: &window, now: clock.now())
        } catch {
            return .answer(refused(envelope, error))
        }
        let taskID = opened.header.envelopeID
        do {
            // Only now, with the envelope verified: a refusal leaves the replay window unchanged.
            try TaskSecrets.open(&opened.task, with: sealingKey, audience: opened.header.audienceAgentID)
        } catch {
            metrics.envelopeRefused(reason: "sealed_secret")
            logger.notice(
                "envelope refused", metadata: [LogKey.refusal: "sealed_secret", LogKey.taskID: "\(taskID.prefix(64))"])
            return .answer([Self.result(taskID: taskID, outcome: .refused, message: error.description, finishedAt: clock.now())])
        }
        let logger = taskLogger(opened)
        do {
            if let entry = journal.entry(for: taskID) {
                // The same task re-sealed with a new sequence: never run twice.
                try journal.updateWindow(window)
                logger.info("duplicate task answered from the journal")
                return .answer([Self.answer(from: entry)])
            }
            let entry = try journal.accept(
                taskID: taskID, sequence: opened.header.sequence, kind: opened.header.taskKind.labelValue,
                window: window, now: clock.now())
            logger.info("task accepted", metadata: ["chom.task_kind": "\(opened.header.taskKind.labelValue)"])
            taskLog?.lines(for: opened.task, trace: opened.trace)?.accepted(kind: opened.header.taskKind.labelValue)
            return .run(opened, accepted: Self.accepted(entry))
        } catch {
            // Without a journal entry exactly-once cannot be promised: do not run it.
            logger.error("cannot write the journal", metadata: [LogKey.error: "\(error)"])
            return .answer([Self.result(taskID: taskID, outcome: .failed, message: "agent journal unavailable: \(error)", finishedAt: clock.now())])
        }
    }

    /// Executes an accepted task and returns its `TaskResult`.
    package func run(
        _ opened: OpenedEnvelope, emit: @Sendable (Chom_Agent_V1_AgentMessage) async -> Void
    ) async -> Chom_Agent_V1_AgentMessage {
        let taskID = opened.header.envelopeID
        ledger.record(taskID)
        let lines = taskLog?.lines(for: opened.task, trace: opened.trace)
        let result = await executor.execute(opened.task) { step, logTail in
            lines?.step(step)
            var progress = Chom_Agent_V1_TaskProgress()
            progress.taskID = taskID
            progress.step = step
            progress.logTail = String(logTail.suffix(512))
            var message = Chom_Agent_V1_AgentMessage()
            message.progress = progress
            await emit(message)
        }
        let state: JournalEntry.State
        let outcome: AgentMetrics.Outcome
        switch result.outcome {
        case .succeeded: (state, outcome) = (.succeeded, .succeeded)
        case .failed: (state, outcome) = (.failed, .failed)
        case .refused: (state, outcome) = (.refused, .refused)
        }
        metrics.taskFinished(kind: opened.header.taskKind.labelValue, outcome: outcome)
        taskLogger(opened).log(
            level: state == .succeeded ? .info : .notice, "task finished",
            metadata: ["chom.task_kind": "\(opened.header.taskKind.labelValue)", LogKey.state: "\(state.rawValue)"])
        lines?.finished(
            kind: opened.header.taskKind.labelValue, failed: state != .succeeded, outcome: state.rawValue, message: result.message)
        do {
            let report: Data? = result.report == Chom_Agent_V1_TaskResult() ? nil : try result.report.serializedBytes()
            let entry = try journal.finish(
                taskID: taskID, state: state, message: result.message, releasePath: result.releasePath, report: report,
                now: clock.now())
            return Self.answer(from: entry)
        } catch {
            logger.error("cannot record a task result", metadata: [LogKey.taskID: "\(taskID)", LogKey.error: "\(error)"])
            return Self.result(
                taskID: taskID, outcome: Self.protoOutcome(state), message: result.message, releasePath: result.releasePath,
                report: result.report, finishedAt: clock.now())
        }
    }

    /// The logger for one task's lines: its id, sequence and, when the envelope carried a valid
    /// W3C trace context, the trace id of the API request it came from.
    private func taskLogger(_ opened: OpenedEnvelope) -> Logger {
        var logger = self.logger
        logger[metadataKey: LogKey.taskID] = "\(opened.header.envelopeID.prefix(64))"
        logger[metadataKey: LogKey.sequence] = "\(opened.header.sequence)"
        if let trace = opened.trace { logger[metadataKey: LogKey.traceID] = "\(trace.traceID)" }
        return logger
    }

    /// A refused envelope: counted by reason; a replay is answered from the journal.
    private func refused(_ envelope: Chom_Agent_V1_Envelope, _ refusal: EnvelopeRefusal) -> [Chom_Agent_V1_AgentMessage] {
        metrics.envelopeRefused(reason: refusal.reason)
        let header = opener.peekHeader(envelope)
        let taskID = header?.envelopeID ?? ""
        logger.notice(
            "envelope refused",
            metadata: [LogKey.refusal: "\(refusal.reason)", LogKey.taskID: "\(taskID.prefix(64))"])
        switch refusal {
        case .replayed, .stale:
            // Signature and audience were verified before the sequence check: the header is genuine.
            if let entry = journal.entry(for: taskID) { return [Self.answer(from: entry)] }
        default:
            break
        }
        guard !taskID.isEmpty else { return [] }
        return [Self.result(taskID: taskID, outcome: .refused, message: refusal.description, finishedAt: clock.now())]
    }

    /// What the journal says: still running → `TaskAccepted`, finished → its `TaskResult`.
    package static func answer(from entry: JournalEntry) -> Chom_Agent_V1_AgentMessage {
        guard entry.state.isFinal else { return accepted(entry) }
        return result(
            taskID: entry.taskID, outcome: protoOutcome(entry.state), message: entry.message,
            releasePath: entry.releasePath,
            report: entry.report.flatMap { try? Chom_Agent_V1_TaskResult(serializedBytes: $0) } ?? .init(),
            finishedAt: Date(unixMilliseconds: entry.finishedAtMS ?? entry.acceptedAtMS))
    }

    static func accepted(_ entry: JournalEntry) -> Chom_Agent_V1_AgentMessage {
        var accepted = Chom_Agent_V1_TaskAccepted()
        accepted.taskID = entry.taskID
        accepted.sequence = entry.sequence
        var message = Chom_Agent_V1_AgentMessage()
        message.accepted = accepted
        return message
    }

    static func result(
        taskID: String, outcome: Chom_Agent_V1_TaskOutcome, message text: String, releasePath: String = "",
        report: Chom_Agent_V1_TaskResult = .init(), finishedAt: Date
    ) -> Chom_Agent_V1_AgentMessage {
        var result = report
        result.taskID = taskID
        result.outcome = outcome
        result.message = text
        result.releasePath = releasePath
        result.finishedAtMs = finishedAt.unixMilliseconds
        var message = Chom_Agent_V1_AgentMessage()
        message.result = result
        return message
    }

    static func protoOutcome(_ state: JournalEntry.State) -> Chom_Agent_V1_TaskOutcome {
        switch state {
        case .accepted: .unspecified
        case .succeeded: .succeeded
        case .failed: .failed
        case .refused: .refused
        }
    }
}
