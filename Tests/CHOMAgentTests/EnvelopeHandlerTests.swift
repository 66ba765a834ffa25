import CHOMAgent
import CHOMCore
import CHOMProtocol
import Crypto
import Foundation
import Testing

@Suite("Envelope handling")
struct EnvelopeHandlerTests {
    let signer = EnvelopeSigner(privateKey: Curve25519.Signing.PrivateKey())
    let agentID = AgentID()
    let clock = ManualWallClock()

    struct Harness {
        let handler: EnvelopeHandler
        let executor: CountingExecutor
        let metrics: AgentMetrics
    }

    func harness(directory: URL, executor: CountingExecutor = CountingExecutor()) throws -> Harness {
        let metrics = AgentMetrics()
        let handler = EnvelopeHandler(
            opener: EnvelopeOpener(trustedKeys: TrustedEnvelopeKeys([signer.publicKey]), expectedAgent: agentID),
            journal: try Journal(directory: directory), executor: executor, metrics: metrics, ledger: ExecutionLedger(),
            clock: clock, logger: Fixtures.logger)
        return Harness(handler: handler, executor: executor, metrics: metrics)
    }

    func seal(_ task: Chom_Agent_V1_Task, sequence: UInt64, ttl: TimeInterval = 300, audience: AgentID? = nil) throws
        -> Chom_Agent_V1_Envelope
    {
        try EnvelopeSealer.seal(
            task: task, audience: audience ?? agentID, sequence: sequence, ttl: ttl, signer: signer, now: clock.now())
    }

    func task() -> Chom_Agent_V1_Task {
        Fixtures.deployTask(artifact: Data("artifact".utf8))
    }

    @Test("a valid deploy is accepted, executed once and answered with its result")
    func validDeploy() async throws {
        try await Fixtures.withTemporaryDirectory { directory in
            let h = try harness(directory: directory)
            let task = task()
            let messages = await h.handler.handle(try seal(task, sequence: 1))
            #expect(messages.count == 3)
            #expect(messages.first?.accepted.taskID == task.taskID)
            #expect(messages.first?.accepted.sequence == 1)
            #expect(messages[1].progress.step == "work")
            let result = try #require(messages.last?.result)
            #expect(result.taskID == task.taskID)
            #expect(result.outcome == .succeeded)
            #expect(result.releasePath == "/srv/x")
            #expect(h.executor.executions(of: task.taskID) == 1)
            #expect(h.handler.ledger.executions(of: task.taskID) == 1)
            #expect(h.handler.journal.entry(for: task.taskID)?.state == .succeeded)
            #expect(h.metrics.text().contains(#"chom_agent_tasks_total{kind="deploy",outcome="succeeded"} 1"#))
        }
    }

    @Test("the same envelope again is answered from the journal, not executed")
    func replayedEnvelope() async throws {
        try await Fixtures.withTemporaryDirectory { directory in
            let h = try harness(directory: directory)
            let task = task()
            let envelope = try seal(task, sequence: 1)
            _ = await h.handler.handle(envelope)
            let again = await h.handler.handle(envelope)
            #expect(again.count == 1)
            #expect(again.first?.result.outcome == .succeeded)
            #expect(again.first?.result.releasePath == "/srv/x")
            #expect(h.executor.executions(of: task.taskID) == 1)
            #expect(h.metrics.text().contains(#"chom_agent_envelope_refusals_total{reason="replayed"} 1"#))
        }
    }

    @Test("the same task re-sealed with a new sequence is not executed again")
    func resealedTask() async throws {
        try await Fixtures.withTemporaryDirectory { directory in
            let h = try harness(directory: directory)
            let task = task()
            _ = await h.handler.handle(try seal(task, sequence: 1))
            let again = await h.handler.handle(try seal(task, sequence: 2))
            #expect(again.map(\.result.outcome) == [.succeeded])
            #expect(h.executor.executions(of: task.taskID) == 1)
            #expect(h.handler.journal.window.highest == 2)
        }
    }

    @Test("a duplicate is recognised after a restart (a new journal on the same directory)")
    func duplicateAfterRestart() async throws {
        try await Fixtures.withTemporaryDirectory { directory in
            let task = task()
            let envelope = try seal(task, sequence: 1)
            let first = try harness(directory: directory)
            _ = await first.handler.handle(envelope)

            let restarted = try harness(directory: directory)
            #expect(restarted.handler.journal.window.highest == 1)
            let replayed = await restarted.handler.handle(envelope)
            let resealed = await restarted.handler.handle(try seal(task, sequence: 5))
            #expect(replayed.map(\.result.outcome) == [.succeeded])
            #expect(resealed.map(\.result.outcome) == [.succeeded])
            #expect(restarted.executor.executions(of: task.taskID) == 0)
        }
    }

    @Test("an expired envelope is refused, reported and counted")
    func expired() async throws {
        try await Fixtures.withTemporaryDirectory { directory in
            let h = try harness(directory: directory)
            let task = task()
            let envelope = try seal(task, sequence: 1, ttl: 30)
            clock.advance(by: 3600)
            let messages = await h.handler.handle(envelope)
            let result = try #require(messages.first?.result)
            #expect(messages.count == 1)
            #expect(result.taskID == task.taskID)
            #expect(result.outcome == .refused)
            #expect(result.message.contains("expired"))
            #expect(h.executor.executions(of: task.taskID) == 0)
            #expect(h.handler.journal.entry(for: task.taskID) == nil)
            #expect(h.metrics.text().contains(#"chom_agent_envelope_refusals_total{reason="expired"} 1"#))
        }
    }

    @Test("an envelope for another agent is refused")
    func misaddressed() async throws {
        try await Fixtures.withTemporaryDirectory { directory in
            let h = try harness(directory: directory)
            let task = task()
            let messages = await h.handler.handle(try seal(task, sequence: 1, audience: AgentID()))
            #expect(messages.map(\.result.outcome) == [.refused])
            #expect(messages.first?.result.message.contains("not this agent") == true)
            #expect(h.executor.executions(of: task.taskID) == 0)
            #expect(h.handler.journal.window.highest == 0)
            #expect(h.metrics.text().contains(#"chom_agent_envelope_refusals_total{reason="misaddressed"} 1"#))
        }
    }

    @Test("a forged signature is refused and nothing runs")
    func forged() async throws {
        try await Fixtures.withTemporaryDirectory { directory in
            let h = try harness(directory: directory)
            var envelope = try seal(task(), sequence: 1)
            envelope.signature = Data(repeating: 7, count: 64)
            let messages = await h.handler.handle(envelope)
            #expect(messages.map(\.result.outcome) == [.refused])
            #expect(h.metrics.text().contains(#"chom_agent_envelope_refusals_total{reason="bad_signature"} 1"#))
        }
    }

    @Test("a stale sequence for an unknown task is refused")
    func staleUnknown() async throws {
        try await Fixtures.withTemporaryDirectory { directory in
            let h = try harness(directory: directory)
            _ = await h.handler.handle(try seal(task(), sequence: 200))
            let old = task()
            let messages = await h.handler.handle(try seal(old, sequence: 3))
            #expect(messages.map(\.result.outcome) == [.refused])
            #expect(h.executor.executions(of: old.taskID) == 0)
        }
    }
}
