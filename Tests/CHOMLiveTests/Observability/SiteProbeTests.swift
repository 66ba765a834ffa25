import CHOMAgent
import CHOMCore
import CHOMProtocol
import CHOMTesting
import CHOMTransport
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import SwiftASN1
import NIOCore
import NIOSSL
import HummingbirdTLS
import Testing
import X509

/// The agent's periodic health probe (`SiteProbeService`) against a real HTTP server standing in
/// for nginx: it answers each site by its Host header, as nginx would.
@Suite("Site health probe: chom_site_up, the probe's duration and the certificate's expiry")
struct SiteProbeTests {
    static let tenant = "5b0c3c1e-7a55-4f7e-9a52-2f1b7d0e9c11"

    /// Answers `/healthz` 200 for up.example, 500 for down.example, 301 for the TLS sites (a TLS
    /// site's HTTP listener only redirects) and, for slow.example, after 3 s. Over HTTPS, with
    /// `certificate` whatever the SNI: 500 for tlsdown.example, 200 for the others.
    static func withSites(certificate: (pem: String, key: String), _ body: (_ port: Int, _ httpsPort: Int) async throws -> Void) async throws {
        let router = Router()
        router.get("/healthz") { request, _ -> Response in
            switch request.head.authority ?? "" {
            case "up.example": return Response(status: .ok)
            case "tls.example", "tlsdown.example", "tlsother.example", "tlsnofile.example": return Response(status: .movedPermanently)
            case "slow.example":
                try await Task.sleep(for: .seconds(3))
                return Response(status: .ok)
            default: return Response(status: .internalServerError)
            }
        }
        let secure = Router()
        secure.get("/healthz") { request, _ -> Response in
            Response(status: request.head.authority == "tlsdown.example" ? .internalServerError : .ok)
        }
        let port = try FreePort.next()
        let httpsPort = try FreePort.next()
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)))
        var tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: [.certificate(try NIOSSLCertificate(bytes: Array(certificate.pem.utf8), format: .pem))],
            privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(certificate.key.utf8), format: .pem)))
        tls.minimumTLSVersion = .tlsv12
        let secureApp = Application(
            router: secure, server: try .tls(.http1(), tlsConfiguration: tls),
            configuration: .init(address: .hostname("127.0.0.1", port: httpsPort)))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await app.runService() }
            group.addTask {
                try await secureApp.runService()
            }
            defer { group.cancelAll() }
            try await TCPProbe.waitUntilListening(port: port, within: .seconds(20), what: "the stand-in nginx")
            try await TCPProbe.waitUntilListening(port: httpsPort, within: .seconds(20), what: "the stand-in nginx's HTTPS")
            try await body(port, httpsPort)
        }
    }

    static func configure(_ domain: String, suspended: Bool = false, tls: String? = nil, timeoutMs: UInt32 = 1000)
        -> Chom_Agent_V1_Task
    {
        var site = Chom_Agent_V1_SiteConfig()
        site.siteID = UUID().uuidString
        site.tenantID = tenant
        site.domain = domain
        site.kind = .static
        site.healthCheck.path = "/healthz"
        site.healthCheck.timeoutMs = timeoutMs
        site.suspended = suspended
        site.configVersion = 1
        if let tls {
            site.tls.certificateChainPem = tls
            site.tls.privateKeyPem = "-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----\n"
        }
        var task = Chom_Agent_V1_Task()
        var configure = Chom_Agent_V1_ConfigureSiteTask()
        configure.site = site
        task.kind = .configure(configure)
        return task
    }

    static func value(_ text: String, _ name: String, site: String) -> Double? {
        let prefix = "\(name){site=\"\(site)\",tenant=\"\(tenant)\"} "
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(prefix) }) else { return nil }
        return Double(line.dropFirst(prefix.count))
    }

    @Test("up, down, slow (past its timeout), TLS sites asked over HTTPS (not their redirect); a suspended site has no up series; a removed one loses its series")
    func probes() async throws {
        // The sites' certificate, issued by a throwaway CA (the probe does not verify it).
        let ca = try FleetCA.create(commonName: "probe test CA", now: Date())
        let key = P256.Signing.PrivateKey()
        let leaf = try ca.issueServerCertificate(
            publicKey: key.publicKey, hostnames: ["tls.example", "tlsdown.example"], ipAddresses: [], now: Date(),
            validity: 3_600)
        let certificate = (pem: try AgentKeyPair.pem(of: leaf), key: key.pemRepresentation)
        try await Self.withSites(certificate: certificate) { port, httpsPort in
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("chom-probe-\(UUID())")
            defer { try? FileManager.default.removeItem(at: directory) }
            let records = SiteRecordStore(directory: directory.appendingPathComponent("records"))
            let tlsDirectory = directory.appendingPathComponent("tls")
            try FileManager.default.createDirectory(at: tlsDirectory, withIntermediateDirectories: true)
            for domain in ["tls.example", "tlsdown.example"] {
                try certificate.pem.write(
                    to: tlsDirectory.appendingPathComponent("\(domain).crt"), atomically: true, encoding: .utf8)
            }
            let notAfter = try Certificate(pemEncoded: certificate.pem).notValidAfter

            // tlsother.example's file holds another certificate than the one served: the pin fails.
            let otherKey = P256.Signing.PrivateKey()
            let other = try ca.issueServerCertificate(
                publicKey: otherKey.publicKey, hostnames: ["tlsother.example"], ipAddresses: [], now: Date(), validity: 3_600)
            try AgentKeyPair.pem(of: other).write(
                to: tlsDirectory.appendingPathComponent("tlsother.example.crt"), atomically: true, encoding: .utf8)

            let up = Self.configure("up.example")
            for task in [
                up, Self.configure("down.example"), Self.configure("slow.example", timeoutMs: 500),
                Self.configure("tls.example", tls: certificate.pem),
                Self.configure("tlsdown.example", tls: certificate.pem),
                Self.configure("tlsother.example", tls: certificate.pem),
                Self.configure("tlsnofile.example", tls: certificate.pem),
                Self.configure("paused.example", suspended: true),
            ] { try records.update(after: task) }

            let metrics = AgentMetrics()
            var configuration = SiteProbeService.Configuration()
            configuration.maximumTimeout = .seconds(2)
            let probe = SiteProbeService(
                records: records, sites: metrics.sites, httpPort: port, httpsPort: httpsPort, tlsDirectory: tlsDirectory,
                configuration: configuration, logger: TestLogging.logger("chom.test.probe"))
            let probed = await probe.probeAll()
            #expect(probed == [
                "up.example", "down.example", "slow.example", "tls.example", "tlsdown.example", "tlsother.example",
                "tlsnofile.example", "paused.example",
            ])
            var text = String(decoding: metrics.render(), as: UTF8.self)
            #expect(Self.value(text, "chom_site_up", site: "up.example") == 1, "\(text)")
            #expect(Self.value(text, "chom_site_up", site: "down.example") == 0)
            #expect(Self.value(text, "chom_site_up", site: "slow.example") == 0)
            #expect(Self.value(text, "chom_site_up", site: "tls.example") == 1, "its app answers over HTTPS")
            #expect(Self.value(text, "chom_site_up", site: "tlsdown.example") == 0, "its redirect is not health")
            #expect(Self.value(text, "chom_site_up", site: "tlsother.example") == 0, "a certificate not its own is not its server")
            #expect(Self.value(text, "chom_site_up", site: "tlsnofile.example") == 0, "no certificate on file, nothing to pin")
            #expect(Self.value(text, "chom_site_up", site: "paused.example") == nil)
            let slow = try #require(Self.value(text, "chom_site_probe_duration_seconds", site: "slow.example"))
            #expect(slow >= 0.4 && slow < 2.5, "the slow site's probe ends at its 500 ms timeout: \(slow)")
            let fast = try #require(Self.value(text, "chom_site_probe_duration_seconds", site: "up.example"))
            #expect(fast < 0.5)
            let expiry = try #require(Self.value(text, "chom_site_certificate_expiry_timestamp_seconds", site: "tls.example"))
            #expect(expiry == notAfter.timeIntervalSince1970.rounded(.down) || abs(expiry - notAfter.timeIntervalSince1970) < 1)
            #expect(Self.value(text, "chom_site_certificate_expiry_timestamp_seconds", site: "up.example") == nil)

            // The site is removed: its record goes, and the next pass drops its probe series.
            var remove = Chom_Agent_V1_Task()
            var removal = Chom_Agent_V1_RemoveSiteTask()
            removal.site = up.configure.site
            remove.kind = .remove(removal)
            try records.update(after: remove)
            let next = await probe.probeAll(previously: probed)
            #expect(!next.contains("up.example"))
            text = String(decoding: metrics.render(), as: UTF8.self)
            #expect(Self.value(text, "chom_site_up", site: "up.example") == nil)
            #expect(Self.value(text, "chom_site_up", site: "down.example") == 0)
        }
    }

    @Test("a certificate file that is missing, not PEM or too large gives no expiry; the earliest notAfter of a chain wins")
    func certificateExpiry() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("chom-cert-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("site.crt")
        #expect(SiteProbeService.certificateExpiry(file) == nil)
        try "not a certificate".write(to: file, atomically: true, encoding: .utf8)
        #expect(SiteProbeService.certificateExpiry(file) == nil)
        try Data(repeating: 0x41, count: (1 << 20) + 1).write(to: file)
        #expect(SiteProbeService.certificateExpiry(file) == nil)
        let early = try FleetCA.create(commonName: "early", now: Date(timeIntervalSinceNow: -86_400 * 365))
        let late = try FleetCA.create(commonName: "late", now: Date())
        try (late.certificatePEM + early.certificatePEM).write(to: file, atomically: true, encoding: .utf8)
        let expected = try Certificate(pemEncoded: early.certificatePEM).notValidAfter
        #expect(SiteProbeService.certificateExpiry(file) == expected)
    }
}
