import AsyncAlgorithms
import CHOMCore
package import Foundation
package import Logging
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS
package import ServiceLifecycle

/// Forwards every hosted site's nginx access and error log lines (and the lines `buffer` gets
/// from elsewhere, such as finished tasks) to a syslog collector as RFC 5424 messages over TCP
/// (`SyslogMessage`, octet-counted framing), with the structured data `site`, `tenant` and
/// `agent`, over TLS (RFC 5425) when `tls` is set. Off unless `logForwarding` is configured.
///
/// Every `interval` it reads the lines appended to each recorded site's logs since the last pass
/// (the sites come from the site records, root's; the logs are root's files outside every site
/// tree, opened without following symlinks) into the bounded `LogForwardBuffer`, then sends what
/// the buffer holds in batches. A collector that is down or slow costs a connect timeout per pass
/// and a write timeout per pass at most; meanwhile lines wait in the buffer, and past its capacity
/// the oldest are dropped and counted; one log adds at most `linesPerLogPerPass` lines a pass (the
/// rest are dropped and counted), so a busy site cannot crowd the others out. A batch whose write
/// failed is sent again on the next connection; a collector that dies after the kernel took a batch
/// loses it (nothing is acknowledged in syslog over TCP). Lines already in a log when the agent
/// starts are not sent.
package struct LogForwarderService: Service {
    package struct Configuration: Sendable, Equatable {
        package var host: String
        package var port: Int
        /// How often the logs are read and the buffer sent.
        package var interval: Duration = .seconds(1)
        /// Messages held while the collector is away; past this the oldest are dropped.
        package var capacity = 10_000
        /// Messages per write.
        package var batch = 500
        /// Bytes read from one log per pass (the rest waits for the next pass).
        package var maxBytesPerPoll = 1 << 20
        /// Lines one log may add per pass; the rest of what was read is dropped and counted, so
        /// one busy site cannot push every other site's lines out of the buffer.
        package var linesPerLogPerPass = 1_000
        package var connectTimeout: Duration = .seconds(3)
        /// Syslog over TLS (RFC 5425) when set: the collector's certificate is verified against
        /// these roots and the host name (or IP address) it was given.
        package var tls: TLS?

        package init(host: String, port: Int, tls: TLS? = nil) {
            self.host = host
            self.port = port
            self.tls = tls
        }
    }

    /// How the collector is trusted over TLS.
    package struct TLS: Sendable, Equatable {
        /// A PEM file of the CA certificates to trust; nil: the system's roots.
        package var caFile: String?

        package init(caFile: String? = nil) {
            self.caFile = caFile
        }

        /// The client context: full verification (chain and name), TLS 1.2 and up.
        func context() throws -> NIOSSLContext {
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.minimumTLSVersion = .tlsv12
            configuration.certificateVerification = .fullVerification
            if let caFile { configuration.trustRoots = .file(caFile) }
            return try NIOSSLContext(configuration: configuration)
        }
    }

    private let configuration: Configuration
    private let records: SiteRecordStore
    private let logsDirectory: URL
    private let agent: String
    private let buffer: LogForwardBuffer
    private let logger: Logger

    package init(
        configuration: Configuration, records: SiteRecordStore, logsDirectory: URL, agent: String,
        buffer: LogForwardBuffer, logger: Logger
    ) {
        self.configuration = configuration
        self.records = records
        self.logsDirectory = logsDirectory
        self.agent = agent
        self.buffer = buffer
        self.logger = logger
    }

    private struct Tails {
        var tenant: String
        var access: AccessLogTail
        var error: AccessLogTail
    }

    package func run() async throws {
        let hostname = ProcessInfo.processInfo.hostName
        var tails: [String: Tails] = [:]
        var connection: (any Channel)?
        var unsent: [[UInt8]] = []
        var quietUntil = ContinuousClock.now
        for await _ in AsyncTimerSequence(interval: configuration.interval, clock: .continuous).cancelOnGracefulShutdown() {
            read(&tails, hostname: hostname)
            guard ContinuousClock.now >= quietUntil else { continue }
            do {
                while true {
                    if unsent.isEmpty { unsent = buffer.take(configuration.batch) }
                    guard !unsent.isEmpty else { break }
                    if connection == nil { connection = try await connect() }
                    var bytes = ByteBuffer()
                    for message in unsent { bytes.writeBytes(message) }
                    if let connection { try await write(bytes, to: connection) }
                    buffer.sent(unsent.count)
                    unsent = []
                }
            } catch {
                // The batch stays in `unsent` and goes first on the next connection.
                try? await connection?.close()
                connection = nil
                quietUntil = ContinuousClock.now + configuration.connectTimeout
                logger.debug("the syslog collector is unavailable", metadata: [LogKey.error: "\(error)"])
            }
        }
        try? await connection?.close()
    }

    /// The lines appended to each recorded site's logs since the last pass, into the buffer. A
    /// site no longer recorded loses its tails; a new one is followed from the current end.
    private func read(_ tails: inout [String: Tails], hostname: String) {
        let sites = records.byDomain().values.filter { $0.tenantID != nil }
        for gone in Set(tails.keys).subtracting(sites.map(\.domain)) { tails[gone] = nil }
        let now = Date()
        for record in sites.sorted(by: { $0.domain < $1.domain }) {
            guard let tenant = record.tenantID else { continue }
            if tails[record.domain]?.tenant != tenant {
                let directory = logsDirectory.appendingPathComponent(record.domain, isDirectory: true)
                tails[record.domain] = Tails(
                    tenant: tenant,
                    access: AccessLogTail(
                        path: directory.appendingPathComponent("access.log").path,
                        maxBytesPerPoll: configuration.maxBytesPerPoll),
                    error: AccessLogTail(
                        path: directory.appendingPathComponent("error.log").path,
                        maxBytesPerPoll: configuration.maxBytesPerPoll))
            }
            for kind in [SyslogMessage.Kind.access, .error] {
                let lines = kind == .access ? tails[record.domain]?.access.readLines().lines : tails[record.domain]?.error.readLines().lines
                let taken = (lines ?? []).filter { !$0.isEmpty }
                buffer.dropped(taken.count - min(taken.count, configuration.linesPerLogPerPass))
                for line in taken.prefix(configuration.linesPerLogPerPass) {
                    buffer.append(SyslogMessage(
                        kind: kind, site: record.domain, tenant: tenant, agent: agent, hostname: hostname, time: now,
                        text: String(decoding: line, as: UTF8.self)))
                }
            }
        }
    }

    /// A write that does not finish within the connect timeout (a collector that stopped reading)
    /// closes the connection, which fails the write: the batch is sent again on the next one.
    private func write(_ bytes: ByteBuffer, to connection: any Channel) async throws {
        let limit = configuration.connectTimeout
        try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                try await connection.writeAndFlush(bytes)
                return true
            }
            group.addTask {
                try await Task.sleep(for: limit)
                return false
            }
            let finished = try await group.next() ?? false
            group.cancelAll()
            if !finished {
                try? await connection.close()
                throw CHOMError(.unavailable, "the syslog collector did not take a batch within \(limit)")
            }
        }
    }

    /// A connection to the collector; over TLS, with the handshake done before the first batch
    /// is written (a collector whose certificate does not verify never gets a line).
    private func connect() async throws -> any Channel {
        let tlsContext = try configuration.tls?.context()
        let host = configuration.host
        // SNI carries names only; an address is still checked against the certificate.
        let serverName = host.allSatisfy { $0.isNumber || $0 == "." } || host.contains(":") ? nil : host
        // Completed on every path (a promise dropped unfulfilled is a fatal error in debug builds).
        let handshake = MultiThreadedEventLoopGroup.singleton.next().makePromise(of: Void.self)
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(.milliseconds(configuration.connectTimeout.wholeMilliseconds))
                .channelOption(.socketOption(.so_keepalive), value: 1)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        guard let tlsContext else { return }
                        let tls = try NIOSSLClientHandler(context: tlsContext, serverHostname: serverName)
                        try channel.pipeline.syncOperations.addHandler(tls)
                        try channel.pipeline.syncOperations.addHandler(HandshakeWatcher(done: handshake))
                    }
                }
                .connect(host: host, port: configuration.port).get()
        } catch {
            handshake.fail(error)
            throw error
        }
        guard tlsContext != nil else {
            handshake.succeed(())
            return channel
        }
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await handshake.futureResult.get() }
                group.addTask {
                    try await Task.sleep(for: configuration.connectTimeout)
                    throw CHOMError(.unavailable, "the syslog collector's TLS handshake did not finish")
                }
                defer { group.cancelAll() }
                try await group.next()
            }
        } catch {
            handshake.fail(error)
            try? await channel.close()
            throw error
        }
        return channel
    }
}

/// Completes `done` when the TLS handshake succeeds, fails it when the connection errs or closes first.
private final class HandshakeWatcher: ChannelInboundHandler, Sendable {
    typealias InboundIn = NIOAny
    private let done: EventLoopPromise<Void>

    init(done: EventLoopPromise<Void>) {
        self.done = done
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? TLSUserEvent, case .handshakeCompleted = event { done.succeed(()) }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        done.fail(error)
        context.fireErrorCaught(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        done.fail(CHOMError(.unavailable, "the syslog collector closed the connection during the TLS handshake"))
        context.fireChannelInactive()
    }
}
