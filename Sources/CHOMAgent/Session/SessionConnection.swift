import CHOMCore
import CHOMProtocol
import Crypto
import Foundation
import GRPCCore
import Logging

/// How one Connect stream ended.
enum ConnectionEnd: Sendable, Equatable {
    /// The coordinator closed the stream.
    case closed
    /// A renewed certificate was stored: reconnect with it at once.
    case renewed
    /// Shutdown was asked for.
    case shutdown
}

/// One Connect stream: Hello, heartbeats, envelopes handled one at a time, certificate renewal.
///
/// Everything the agent sends goes through one outbox (an `AsyncStream`) drained by the request
/// producer, so heartbeats, progress and results never write to the stream concurrently.
struct SessionConnection<Client: Chom_Agent_V1_AgentGateway.ClientProtocol>: Sendable {
    let gateway: Client
    let identity: EnrolledIdentity
    let handler: EnvelopeHandler
    let configuration: AgentConfiguration
    let store: AgentIdentityStore
    let metrics: AgentMetrics
    let control: SessionControl
    let clock: any WallClock
    let logger: Logger
    /// Set once the coordinator accepted the stream.
    let accepted: LockedBox<Bool>
    /// Registered after the Hello on every stream (the coordinator keeps the first key it gets).
    var sealingPublicKey: Curve25519.KeyAgreement.PublicKey? = nil
    /// Reported after the Hello, every `inventoryInterval`, and after a task that changed the sites
    /// held (nil: no inventory, as an older agent).
    var inventory: InventoryReporter? = nil
    /// The sites of the last inventory this connection reported.
    let reportedSites = LockedBox<[Chom_Agent_V1_SiteInventory]?>(nil)
    /// Renewed by every heartbeat answer (nil: no site lease).
    var lease: SiteLeaseKeeper? = nil
    /// Its pending samples go out after the Hello and every `usageInterval` until acknowledged.
    var usage: UsageMeter? = nil

    typealias Outbox = AsyncStream<Chom_Agent_V1_AgentMessage>.Continuation

    func run() async throws -> ConnectionEnd {
        let (outbox, continuation) = AsyncStream.makeStream(of: Chom_Agent_V1_AgentMessage.self)
        var hello = Chom_Agent_V1_AgentMessage()
        hello.hello.agentVersion = configuration.agentVersion
        hello.hello.highestSequence = handler.journal.window.highest
        hello.hello.metricsAddress = "\(configuration.metricsHost):\(configuration.metricsPort)"
        hello.hello.capabilities = [SiteLayoutCapability.name] + SiteKindCapability.announced(by: configuration.hosting)
        // The lease is kept, and the fence written, by the hosting part (`SiteLeaseKeeper`).
        if configuration.hosting != nil { hello.hello.capabilities.append(SiteLeaseCapability.name) }
        hello.hello.publicAddresses = configuration.publicAddresses
        hello.hello.httpPort = UInt32(configuration.hosting?.site.httpPort ?? 0)
        if let sealingPublicKey {
            hello.hello.capabilities.append(SecretSealing.capability)
            continuation.yield(hello)
            var register = Chom_Agent_V1_AgentMessage()
            register.renew.sealingPublicKey = sealingPublicKey.rawRepresentation
            continuation.yield(register)
        } else {
            continuation.yield(hello)
        }
        if let report = inventoryReport() { continuation.yield(report) }
        if let report = usage?.report() { continuation.yield(report) }
        continuation.yield(heartbeat())

        return try await gateway.connect(
            requestProducer: { writer in
                for await message in outbox {
                    try await writer.write(message)
                }
            },
            onResponse: { response in
                defer { continuation.finish() }
                if case .failure(let error) = response.accepted { throw error }
                accepted.value = true
                metrics.setStreamConnected(true)
                logger.info("connected to the coordinator")
                return try await serve(response.messages, outbox: continuation)
            }
        )
    }

    private func serve(
        _ messages: RPCAsyncSequence<Chom_Agent_V1_CoordinatorMessage, any Error>, outbox: Outbox
    ) async throws -> ConnectionEnd {
        let pendingKey = LockedBox<P256.Signing.PrivateKey?>(nil)
        let lastAnswer = LockedBox<ContinuousClock.Instant?>(nil)
        // Set when the coordinator's side stalled: envelopes still buffered are not started (the
        // next replica re-sends them).
        let leaving = LockedBox(false)
        // Envelopes run one at a time in a worker of their own, so that the reader goes on taking
        // heartbeat answers while a task runs: a deploy longer than the site lease must not
        // fence every site of the host.
        let (envelopes, queue) = AsyncStream.makeStream(of: Chom_Agent_V1_Envelope.self)
        return try await withThrowingTaskGroup(of: ConnectionEnd?.self) { group in
            group.addTask {
                while true {
                    try await Task.sleep(for: configuration.heartbeatInterval)
                    outbox.yield(heartbeat())
                }
            }
            if inventory != nil {
                group.addTask {
                    while true {
                        try await Task.sleep(for: configuration.inventoryInterval)
                        if let report = inventoryReport() { outbox.yield(report) }
                    }
                }
            }
            if let usage {
                group.addTask {
                    while true {
                        try await Task.sleep(for: configuration.usageInterval)
                        if let report = usage.report() { outbox.yield(report) }
                    }
                }
            }
            group.addTask {
                try await renewWhenDue(pendingKey: pendingKey, outbox: outbox)
                return nil
            }
            let drops = control.drops
            group.addTask {
                await control.waitForShutdownOrDrop(after: drops)
                try await control.waitUntilIdle()
                return control.isShuttingDown ? .shutdown : .closed
            }
            // The coordinator's side stalled (answers stopped): no new envelope is taken, the one
            // under way finishes, and the worker ends the stream, so the agent dials the next replica.
            let silence = configuration.streamSilenceTimeout
            group.addTask {
                while true {
                    try await Task.sleep(for: configuration.heartbeatInterval)
                    if let last = lastAnswer.value, last.duration(to: .now) > silence {
                        logger.warning(
                            "the coordinator stopped answering heartbeats on this stream; leaving it for the next replica",
                            metadata: [LogKey.durationMS: "\(Int(last.duration(to: .now).components.seconds * 1000))"])
                        leaving.value = true
                        queue.finish()
                        return nil
                    }
                }
            }
            group.addTask {
                do {
                    for try await message in messages {
                        if case .heartbeatAnswer = message.event { lastAnswer.value = .now }
                        if case .envelope(let envelope) = message.event {
                            queue.yield(envelope)
                        } else if let end = try await receive(message, pendingKey: pendingKey, outbox: outbox) {
                            queue.finish()
                            return end
                        }
                    }
                } catch {
                    // The task under way finishes first (its result goes out if the stream still can).
                    logger.warning("stream from the coordinator failed", metadata: [LogKey.error: "\(error)"])
                }
                queue.finish()
                return nil
            }
            group.addTask {
                for await envelope in envelopes {
                    guard !leaving.value else { return .closed }
                    // During shutdown the envelope stays unanswered: the coordinator re-sends it later.
                    guard control.beginWork() else { return .shutdown }
                    do {
                        defer { control.endWork() }
                        await handler.handle(envelope) { outbox.yield($0) }
                    }
                    // A task that changed what the host holds (a stale copy removed, a site restored
                    // here) is reported at once: the coordinator keeps the agent fenced while it
                    // holds a copy of a site placed elsewhere, and lifts the fence on the report
                    // that shows it gone, not a whole inventory interval later.
                    if let inventory, inventory.sites() != reportedSites.value, let report = inventoryReport() {
                        outbox.yield(report)
                    }
                }
                return .closed
            }
            defer { group.cancelAll() }
            // After a renewal the stream is left only once the envelope worker has finished what it
            // took (the queue is finished, so it takes nothing more): cancelling it would fail a
            // deploy in the middle of its download.
            var renewed = false
            while let end = try await group.next() {
                guard let end else { continue }
                if end == .renewed, !renewed {
                    renewed = true
                    continue
                }
                return end == .shutdown || !renewed ? end : .renewed
            }
            return renewed ? .renewed : .closed
        }
    }

    /// Handles one coordinator message; non-nil ends the connection.
    private func receive(
        _ message: Chom_Agent_V1_CoordinatorMessage, pendingKey: LockedBox<P256.Signing.PrivateKey?>, outbox: Outbox
    ) async throws -> ConnectionEnd? {
        switch message.event {
        case .envelope:
            return nil  // The envelope worker of `serve` takes them.
        case .renewed(let renewed):
            guard let key = pendingKey.value else { return nil }
            guard renewed.error.isEmpty, !renewed.certificatePem.isEmpty else {
                logger.warning("certificate renewal refused", metadata: [LogKey.error: "\(renewed.error.prefix(200))"])
                return nil
            }
            do {
                _ = try CertificateRenewal.validate(
                    certificatePEM: renewed.certificatePem, key: key, identity: identity, now: clock.now())
                try store.saveRenewal(privateKey: key, certificatePEM: renewed.certificatePem, previous: identity)
            } catch {
                logger.error("renewed certificate not usable", metadata: [LogKey.error: "\(error)"])
                pendingKey.value = nil
                return nil
            }
            logger.info("client certificate renewed; reconnecting with it")
            return .renewed
        case .heartbeatAnswer(let answer):
            lease?.answered(leaseSeconds: Int(answer.leaseSeconds))
            return nil
        case .usageAck(let ack):
            usage?.acknowledge(ack.sequences)
            return nil
        case nil:
            return nil
        }
    }

    /// Sleeps until the renewal date, then asks for a certificate for a new key; asks again
    /// after `renewalRetryInterval` while no usable answer came.
    private func renewWhenDue(pendingKey: LockedBox<P256.Signing.PrivateKey?>, outbox: Outbox) async throws {
        let due = CertificateRenewal.dueDate(for: identity.certificate, fraction: configuration.renewalFraction)
        while true {
            let wait = due.timeIntervalSince(clock.now())
            if wait > 0 {
                // Re-check at least hourly: the wall clock may jump.
                try await Task.sleep(for: .milliseconds(Int64(min(wait, 3600) * 1000)))
                continue
            }
            let (key, csrPEM) = try CertificateRenewal.makeRequest(agentID: identity.agentID)
            pendingKey.value = key
            var request = Chom_Agent_V1_AgentMessage()
            request.renew.csrPem = csrPEM
            outbox.yield(request)
            logger.info("certificate renewal requested")
            try await Task.sleep(for: configuration.renewalRetryInterval)
        }
    }

    /// The next inventory (its sequence persisted), or nil when it cannot be built: the sequence
    /// file cannot be written, so reporting would risk a sequence the coordinator saw already.
    private func inventoryReport() -> Chom_Agent_V1_AgentMessage? {
        guard let inventory else { return nil }
        do {
            var message = Chom_Agent_V1_AgentMessage()
            message.inventory = try inventory.next()
            reportedSites.value = message.inventory.sites
            return message
        } catch {
            logger.error("inventory not reported", metadata: [LogKey.error: "\(error)"])
            return nil
        }
    }

    private func heartbeat() -> Chom_Agent_V1_AgentMessage {
        var message = Chom_Agent_V1_AgentMessage()
        message.heartbeat.facts = HostFactsReader.read(sitesRoot: configuration.sitesRoot)
        message.heartbeat.capacity.maxSites = UInt32(clamping: configuration.maxSites)
        message.heartbeat.capacity.hostedSites = UInt32(clamping: HostFactsReader.hostedSites(sitesRoot: configuration.sitesRoot))
        return message
    }
}
