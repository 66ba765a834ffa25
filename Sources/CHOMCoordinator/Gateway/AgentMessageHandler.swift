package import CHOMCore
package import CHOMProtocol
package import CHOMStore
import CHOMTransport
import Crypto
package import Foundation
import Logging
import Synchronization
import X509

/// Applies what an agent reports on its stream to the store.
package struct AgentMessageHandler: Sendable {
    let store: Store
    let keys: CoordinatorKeys
    let configuration: CoordinatorConfiguration
    let metrics: CoordinatorMetrics
    let clock: any WallClock
    let logger: Logger
    /// Answers inventories (nil: they are ignored, as by a coordinator without reconciliation).
    var reconciler: InventoryApplier? = nil
    /// Whether the agent's last inventory held a copy of a site placed elsewhere that no open
    /// migration covers (per stream: the inventory comes before the first heartbeat on every stream).
    let staleCopies = LockedFlag()

    func handle(_ message: Chom_Agent_V1_AgentMessage, from agent: AgentID, on connection: AgentConnection) async throws {
        let now = clock.now()
        switch message.event {
        case .heartbeat(let heartbeat):
            let leased = try await store.agents.heartbeat(
                agent, facts: HostFacts(heartbeat.facts),
                capacity: Capacity(
                    maxSites: Int(heartbeat.capacity.maxSites), hostedSites: Int(heartbeat.capacity.hostedSites)),
                now: now)
            // Only once recorded: an answer renews the agent's site lease, and the failure
            // detector must never see silence from an agent that holds one. None for an agent
            // declared failed: its sites may be failing over, so it stays fenced until the leader
            // has seen it back (health online).
            // Nor while it still holds a copy of a site placed elsewhere (it failed over while the
            // agent was cut off): unfenced, that copy would answer visitors whose DNS still points
            // here, until reconciliation removes it.
            guard leased, !staleCopies.value else { return }
            // A dispatch pass stuck on a query PostgreSQL never answered (see `DispatchPassWatch`):
            // unanswered heartbeats make the agent leave this stream for a fresh one, with a
            // dispatcher that works, after its silence timeout.
            if connection.pass.isStuck(after: Self.stuckPass) {
                logger.warning(
                    "this stream's dispatch pass has not finished for \(Self.stuckPass); heartbeats go unanswered so the agent moves to a fresh stream",
                    metadata: [LogKey.agentID: "\(agent)"])
                return
            }
            var answer = Chom_Agent_V1_CoordinatorMessage()
            answer.heartbeatAnswer.leaseSeconds = configuration.siteLeaseSecondsGranted
            try await connection.send(answer)
        case .accepted(let accepted):
            guard let id = TaskID(accepted.taskID) else { return }
            try await store.tasks.markAccepted(id, agent: agent, now: now)
        case .progress(let progress):
            guard let id = TaskID(progress.taskID) else { return }
            try await store.tasks.recordProgress(
                id, agent: agent, step: String(progress.step.prefix(64)), log: String(progress.logTail.suffix(4096)),
                now: now)
        case .result(let result):
            guard let id = TaskID(result.taskID) else { return }
            if let finished = try await Self.record(result, id: id, from: agent, store: store, now: now) {
                let succeeded = finished.state == .succeeded
                metrics.taskFinished(kind: finished.kind.rawValue, outcome: succeeded ? "succeeded" : "failed")
                var metadata: Logger.Metadata = [LogKey.taskID: "\(id)", LogKey.state: "\(succeeded ? "succeeded" : "failed")"]
                if let trace = finished.traceParent { metadata[LogKey.traceID] = "\(trace.traceID)" }
                logger.info("task finished", metadata: metadata)
            }
        case .renew(let renew):
            if !renew.sealingPublicKey.isEmpty {
                try await registerSealingKey(renew.sealingPublicKey, of: agent, on: connection)
                if renew.csrPem.isEmpty { return }
            }
            var reply = Chom_Agent_V1_RenewCertificateResponse()
            do {
                let csr = try CertificateSigningRequestPEM(renew.csrPem)
                let issued = try keys.ca.issueAgentCertificate(
                    csr: csr.request, agentID: agent.uuid, now: now,
                    validity: configuration.agents.certificateLifetimeSeconds)
                try await store.agents.renewed(
                    agent, serial: AgentIdentity.serialHex(issued), notAfter: issued.notValidAfter)
                reply.certificatePem = try AgentKeyPair.pem(of: issued)
                logger.info("agent certificate renewed")
            } catch {
                reply.error = "renewal refused: the CSR is not valid"
            }
            var message = Chom_Agent_V1_CoordinatorMessage()
            message.renewed = reply
            try await connection.send(message)
        case .inventory(let inventory):
            // Never a reason to end the stream: the next inventory tries again.
            do {
                if let summary = try await reconciler?.apply(inventory, from: agent, on: connection, now: now),
                    summary.admission == .fresh
                {
                    staleCopies.value = summary.staleCopies > 0
                }
            } catch {
                logger.error("inventory reconciliation failed", metadata: [LogKey.error: "\(error)"])
            }
        case .usage(let report):
            // Never a reason to end the stream: unacknowledged samples come again.
            do {
                let outcome = try await UsageIntake(store: store, logger: logger).take(report, from: agent, now: now)
                var ack = Chom_Agent_V1_CoordinatorMessage()
                ack.usageAck.sequences = outcome.acknowledged
                try await connection.send(ack)
            } catch {
                logger.error("usage report not stored", metadata: [LogKey.error: "\(error)"])
            }
        case .hello, nil:
            break
        }
    }

    /// Keeps the first valid sealing key an agent registers and wakes its dispatcher (tasks with
    /// secrets may be waiting for it). A different key later is ignored: a new key needs a new enrollment.
    private func registerSealingKey(_ raw: Data, of agent: AgentID, on connection: AgentConnection) async throws {
        guard let key = SecretSealing.publicKey(raw: raw) else {
            logger.warning("agent sent an invalid sealing key")
            return
        }
        let registered = try await store.agents.registerSealingKey(agent, key: Array(key.rawRepresentation))
        if registered == Array(key.rawRepresentation) {
            logger.debug("agent sealing key registered", metadata: [LogKey.keyID: "\(SecretSealing.keyID(of: key))"])
            connection.wake.signal()
        } else {
            logger.warning("agent sent a sealing key other than its registered one; kept the registered key")
        }
    }

    /// How long a dispatch pass may run before its stream is given up (a pass takes milliseconds).
    static let stuckPass: Duration = .seconds(30)

    /// Records an agent's task result and everything it changes (the one path results take;
    /// tests feed results through it too). Nil when the task was unknown, foreign or final.
    package static func record(
        _ result: Chom_Agent_V1_TaskResult, id: TaskID, from agent: AgentID, store: Store, now: Date
    ) async throws -> TaskRecord? {
        try await store.tasks.finish(
            id, agent: agent, report: TaskReport(result), now: now, audit: TaskAudit.outcome(agent: agent, now: now))
    }
}

/// A flag shared by the tasks of one agent stream.
final class LockedFlag: Sendable {
    private let storage = Mutex(false)
    var value: Bool {
        get { storage.withLock { $0 } }
        set { storage.withLock { $0 = newValue } }
    }
}
