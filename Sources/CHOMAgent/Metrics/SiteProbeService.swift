import AsyncAlgorithms
import CHOMCore
package import Foundation
package import Logging
import SwiftASN1
import X509
package import ServiceLifecycle

/// The agent's periodic health probe of every site it hosts: `chom_site_up` and
/// `chom_site_probe_duration_seconds` from a `GET` of the site's health check path on the local
/// nginx (the deploy's own check, `HealthCheck`), and `chom_site_certificate_expiry_timestamp_seconds`
/// from the site's certificate chain in the agent's TLS directory.
///
/// The sites come from the site records (`SiteRecordStore`), so the probe resumes after a restart
/// without waiting for a task. A suspended site is not probed (it answers 503 maintenance on
/// purpose) and has no `up` series. A TLS site's HTTP listener only redirects, so a site with a
/// certificate is probed over HTTPS (its own server block, by SNI), must present its own
/// certificate (pinned, `HealthCheck.pinnedCertificateDER`) and answer its expected status there. The probe reads nothing in a site tree: it is an HTTP(S) request to nginx, and
/// the certificate is root's file outside every tree.
package struct SiteProbeService: Service {
    package struct Configuration: Sendable {
        /// How often every site is probed.
        package var interval: Duration = .seconds(30)
        /// At most this many probes at once.
        package var concurrency = 4
        /// A site's own timeout is capped at this, so one slow site never holds a pass up for long.
        package var maximumTimeout: Duration = .seconds(10)

        package init() {}
    }

    private let records: SiteRecordStore
    private let sites: SiteMetrics
    private let httpPort: Int
    private let httpsPort: Int
    private let tlsDirectory: URL
    private let configuration: Configuration
    private let logger: Logger

    package init(
        records: SiteRecordStore, sites: SiteMetrics, httpPort: Int, httpsPort: Int = 443, tlsDirectory: URL,
        configuration: Configuration = Configuration(), logger: Logger
    ) {
        self.records = records
        self.sites = sites
        self.httpPort = httpPort
        self.httpsPort = httpsPort
        self.tlsDirectory = tlsDirectory
        self.configuration = configuration
        self.logger = logger
    }

    package func run() async throws {
        var probed: Set<String> = []
        probed = await probeAll(previously: probed)
        for await _ in AsyncTimerSequence(interval: configuration.interval, clock: .continuous).cancelOnGracefulShutdown() {
            probed = await probeAll(previously: probed)
        }
    }

    /// One pass over every recorded site; returns the domains probed, and removes the probe's
    /// series of those `previously` probed that are no longer recorded.
    @discardableResult
    package func probeAll(previously: Set<String> = []) async -> Set<String> {
        let due = records.byDomain().values.filter { $0.tenantID != nil && $0.probe != nil }
        for gone in previously.subtracting(due.map(\.domain)) { sites.probeEnded(site: gone) }
        await withTaskGroup(of: Void.self) { group in
            var running = 0
            for record in due.sorted(by: { $0.domain < $1.domain }) {
                if running == configuration.concurrency {
                    await group.next()
                    running -= 1
                }
                group.addTask { await probe(record) }
                running += 1
            }
        }
        return Set(due.map(\.domain))
    }

    private func probe(_ record: SiteRecordStore.Record) async {
        guard let tenant = record.tenantID, let spec = record.probe else { return }
        let certificate = spec.tls ? Self.certificate(tlsDirectory.appendingPathComponent("\(record.domain).crt")) : nil
        let expiry = certificate?.expiry
        guard !record.suspended else {
            sites.probed(site: record.domain, tenant: tenant, probe: nil, certificateExpiry: expiry)
            return
        }
        let timeout = min(.milliseconds(spec.timeoutMilliseconds), configuration.maximumTimeout)
        // A site with a certificate is asked over HTTPS: its HTTP listener only redirects.
        var check = HealthCheck(port: spec.tls ? httpsPort : httpPort, expectedStatus: spec.expectedStatus, timeout: timeout)
        check.tls = spec.tls
        check.pinnedCertificateDER = certificate?.leaf
        let clock = ContinuousClock()
        let started = clock.now
        var up = true
        do {
            // A TLS site must present its own certificate: without one on file it cannot be up.
            if spec.tls, check.pinnedCertificateDER == nil {
                throw HealthCheckFailure(.failed("no readable certificate for the site"))
            }
            _ = try await check.check(host: record.domain, path: spec.path)
        } catch {
            up = false
            logger.debug("site health probe failed", metadata: [LogKey.siteID: "\(record.siteID)", LogKey.error: "\(error)"])
        }
        let seconds = started.duration(to: clock.now).secondsValue
        sites.probed(site: record.domain, tenant: tenant, probe: (up, seconds), certificateExpiry: expiry)
    }

    /// The earliest notAfter of the PEM certificates in `file` (root's, in the agent's TLS
    /// directory); nil when it is missing or holds no certificate this can read.
    package static func certificateExpiry(_ file: URL) -> Date? {
        certificate(file)?.expiry
    }

    /// The earliest notAfter of the chain in `file` and its first certificate's DER (the leaf nginx
    /// presents, which the HTTPS probe pins); nil when it is missing, over 1 MiB or holds none.
    static func certificate(_ file: URL) -> (expiry: Date?, leaf: [UInt8])? {
        guard let data = FileManager.default.contents(atPath: file.path),  // not a tenant path: the agent's TLS directory
            data.count <= 1 << 20, let text = String(data: data, encoding: .utf8),
            let documents = try? PEMDocument.parseMultiple(pemString: text)
        else { return nil }
        let certificates = documents.compactMap { document -> (Date, [UInt8])? in
            guard document.discriminator == "CERTIFICATE", let certificate = try? Certificate(derEncoded: document.derBytes)
            else { return nil }
            return (certificate.notValidAfter, document.derBytes)
        }
        guard let leaf = certificates.first?.1 else { return nil }
        return (certificates.map(\.0).min(), leaf)
    }
}
