import CHOMAgent
import CHOMCore
import CHOMProtocol
import Crypto
import Foundation
import Testing

/// The agent opens sealed secrets only after the envelope verified, and refuses a task whose
/// secrets it cannot open without running it or moving its replay window.
@Suite("Sealed secrets on the agent")
struct SealedSecretHandlingTests {
    let signer = EnvelopeSigner(privateKey: Curve25519.Signing.PrivateKey())
    let agentID = AgentID()
    let clock = ManualWallClock()
    let sealingKey = Curve25519.KeyAgreement.PrivateKey()
    static let pem = "-----BEGIN PRIVATE KEY-----\nsecret\n-----END PRIVATE KEY-----\n"

    func handler(directory: URL, executor: CountingExecutor) throws -> EnvelopeHandler {
        EnvelopeHandler(
            opener: EnvelopeOpener(trustedKeys: TrustedEnvelopeKeys([signer.publicKey]), expectedAgent: agentID),
            journal: try Journal(directory: directory), executor: executor, metrics: AgentMetrics(),
            ledger: ExecutionLedger(), clock: clock, logger: Fixtures.logger, sealingKey: sealingKey)
    }

    func configureTask(sealedTo key: Curve25519.KeyAgreement.PublicKey) throws -> Chom_Agent_V1_Task {
        var task = Chom_Agent_V1_Task()
        task.taskID = TaskID().description
        task.configure.site.domain = "example.test"
        task.configure.site.tls.certificateChainPem = "chain"
        task.configure.site.tls.privateKeyPem = Self.pem
        try TaskSecrets.seal(&task, to: key, audience: agentID.description)
        return task
    }

    @Test("a secret sealed to this agent reaches the executor in clear")
    func opens() async throws {
        try await Fixtures.withTemporaryDirectory { directory in
            let executor = CountingExecutor()
            let handler = try handler(directory: directory, executor: executor)
            let task = try configureTask(sealedTo: sealingKey.publicKey)
            let envelope = try EnvelopeSealer.seal(
                task: task, audience: agentID, sequence: 1, ttl: 300, signer: signer, now: clock.now())
            #expect(!envelope.payload.isEmpty)
            let messages = await handler.handle(envelope)
            #expect(messages.last?.result.outcome == .succeeded)
            let received = try #require(executor.received.first)
            #expect(received.configure.site.tls.privateKeyPem == Self.pem)
            #expect(!received.configure.site.tls.hasSealedPrivateKey)
        }
    }

    @Test("a secret sealed to another key is refused, not run, and the sequence stays fresh")
    func refusesOtherKey() async throws {
        try await Fixtures.withTemporaryDirectory { directory in
            let executor = CountingExecutor()
            let handler = try handler(directory: directory, executor: executor)
            let task = try configureTask(sealedTo: Curve25519.KeyAgreement.PrivateKey().publicKey)
            let envelope = try EnvelopeSealer.seal(
                task: task, audience: agentID, sequence: 1, ttl: 300, signer: signer, now: clock.now())
            let messages = await handler.handle(envelope)
            #expect(messages.count == 1)
            #expect(messages.first?.result.outcome == .refused)
            #expect(messages.first?.result.message.contains("sealed secret configure.site.tls.private_key_pem") == true)
            #expect(messages.first?.result.message.contains("PRIVATE KEY") == false)
            #expect(executor.executions(of: task.taskID) == 0)
            #expect(handler.journal.entry(for: task.taskID) == nil)
            // Sequence 1 was not recorded: a good envelope with it is accepted.
            let good = try configureTask(sealedTo: sealingKey.publicKey)
            let next = await handler.handle(
                try EnvelopeSealer.seal(task: good, audience: agentID, sequence: 1, ttl: 300, signer: signer, now: clock.now()))
            #expect(next.last?.result.outcome == .succeeded)
        }
    }
}
