import CHOMAgent
import CHOMCore
import CHOMTesting
import CHOMTransport
import Crypto
import Foundation
import Logging
import Prometheus
import Testing

/// Syslog over TLS (RFC 5425) from the agent's forwarder to Debian's rsyslog with its gtls driver:
/// lines arrive when the collector's certificate chains to the configured CA and names the
/// address; none are sent to a collector whose certificate does not.
@Suite(
    "Log forwarding over TLS to rsyslog",
    .enabled(if: RsyslogServer.available && RsyslogServer.tlsAvailable, "needs rsyslog and rsyslog-gnutls"))
struct LogForwardingTLSLiveTests {
    struct PKI {
        let caFile: URL
        let server: RsyslogServer.TLS
    }

    /// A CA and a collector certificate for 127.0.0.1 it issued; the CA's PEM written to a file.
    static func pki(in directory: URL, name: String) throws -> PKI {
        let ca = try FleetCA.create(commonName: "syslog test CA \(name)", now: Date())
        let key = P256.Signing.PrivateKey()
        let leaf = try ca.issueServerCertificate(
            publicKey: key.publicKey, hostnames: ["localhost"], ipAddresses: ["127.0.0.1"], now: Date(), validity: 3_600)
        let caFile = directory.appendingPathComponent("\(name)-ca.pem")
        try ca.certificatePEM.write(to: caFile, atomically: true, encoding: .utf8)
        return PKI(caFile: caFile, server: RsyslogServer.TLS(
            certificatePEM: try AgentKeyPair.pem(of: leaf), privateKeyPEM: key.pemRepresentation, caPEM: ca.certificatePEM))
    }

    /// Runs a forwarder of `buffer` to `port` over TLS trusting `caFile` while `body` runs.
    static func forwarding(
        to port: Int, caFile: URL, buffer: LogForwardBuffer, logger: Logger, directory: URL, _ body: () async throws -> Void
    ) async throws {
        var configuration = LogForwarderService.Configuration(
            host: "127.0.0.1", port: port, tls: LogForwarderService.TLS(caFile: caFile.path))
        configuration.interval = .milliseconds(200)
        configuration.connectTimeout = .milliseconds(500)
        let service = LogForwarderService(
            configuration: configuration, records: SiteRecordStore(directory: directory.appendingPathComponent("records")),
            logsDirectory: directory.appendingPathComponent("logs"), agent: "agent-1", buffer: buffer, logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await service.run() }
            defer { group.cancelAll() }
            try await body()
        }
    }

    static func message(_ text: String) -> SyslogMessage {
        SyslogMessage(
            kind: .task, site: "tls.test", tenant: "t-1", agent: "agent-1", hostname: "vps-1", time: Date(),
            task: "task-1", text: text)
    }

    static func eventually(_ what: String, _ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(20)
        while !condition() {
            guard ContinuousClock.now < deadline else { throw CHOMError(.unavailable, "timed out waiting for \(what)") }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    @Test("a collector whose certificate chains to the CA gets the lines, framed as over plain TCP")
    func verified() async throws {
        let directory = try TemporaryDirectory.make(prefix: "chom-syslog-tls")
        defer { TemporaryDirectory.remove(directory) }
        let pki = try Self.pki(in: directory, name: "good")
        try await RsyslogServer.with(tls: pki.server) { rsyslog in
            let registry = PrometheusCollectorRegistry()
            let buffer = LogForwardBuffer(capacity: 100, registry: registry)
            for index in 0..<3 { buffer.append(Self.message("over tls \(index)")) }
            try await Self.forwarding(
                to: rsyslog.port, caFile: pki.caFile, buffer: buffer, logger: TestLogging.logger("chom.test.syslog-tls"),
                directory: directory
            ) {
                try await Self.eventually("three lines in rsyslog") { rsyslog.lines().count == 3 }
            }
            #expect(rsyslog.lines() == (0..<3).map {
                #"task [chom@32473 site="tls.test" tenant="t-1" agent="agent-1" task="task-1"] over tls \#($0)"#
            })
        }
    }

    @Test("a collector whose certificate does not chain to the CA gets nothing: the handshake fails, nothing is counted sent")
    func unverified() async throws {
        let directory = try TemporaryDirectory.make(prefix: "chom-syslog-tls")
        defer { TemporaryDirectory.remove(directory) }
        let served = try Self.pki(in: directory, name: "served")
        let trusted = try Self.pki(in: directory, name: "trusted")
        try await RsyslogServer.with(tls: served.server) { rsyslog in
            let registry = PrometheusCollectorRegistry()
            let buffer = LogForwardBuffer(capacity: 100, registry: registry)
            buffer.append(Self.message("must not arrive"))
            var logger: Logger
            let log: LogSink
            (logger, log) = CapturingLogHandler.logger(label: "chom.test.syslog-tls")
            logger.logLevel = .debug
            try await Self.forwarding(
                to: rsyslog.port, caFile: trusted.caFile, buffer: buffer, logger: logger, directory: directory
            ) {
                // Two failed attempts, each refused at the handshake.
                try await Self.eventually("two refused handshakes") {
                    log.entries("the syslog collector is unavailable").count >= 2
                }
            }
            #expect(rsyslog.lines().isEmpty, "\(rsyslog.lines())")
            let text = String(decoding: registry.emitToBuffer(), as: UTF8.self)
            #expect(!text.contains(#"chom_agent_log_forward_lines_total{result="sent"} 1"#), "\(text)")
            let errors = log.entries("the syslog collector is unavailable").map { "\($0.metadata[LogKey.error] ?? "")" }
            #expect(errors.allSatisfy { $0.lowercased().contains("certificate") || $0.contains("handshake") || $0.contains("TLS") }, "\(errors)")
        }
    }
}
