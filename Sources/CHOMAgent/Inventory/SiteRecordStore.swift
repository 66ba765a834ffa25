package import CHOMProtocol
import CHOMTransport
package import Foundation

/// What the agent remembers of each site it hosts, beside its tree: the site's id, domain, the
/// configuration version it last applied and whether it is suspended, in
/// `<state>/site-records/<site id>.json` (root's state directory, 0600, written atomically). The tree
/// itself is named by domain only; the inventory joins the two.
///
/// Written after a task that applies the whole configuration succeeded (configure, suspend, a
/// deploy carrying the site, restore); forgotten after a remove.
package struct SiteRecordStore: Sendable {
    package struct Record: Codable, Sendable, Equatable {
        package var siteID: String
        package var domain: String
        package var configVersion: UInt64
        package var suspended: Bool
        /// How the agent that applied `configVersion` wrote the site's nginx configuration; absent
        /// in records of agents older than the fence (format 2: the fence include, where the site
        /// needs one).
        package var format: Int?
        /// The site's tenant id, for its metrics' `tenant` label; absent in records of older agents.
        package var tenantID: String?
        /// What the agent's periodic health probe asks of the site; absent in records of older agents.
        package var probe: Probe?

        /// The format this agent writes.
        package static let currentFormat = 2

        /// The version to report: 0 ("unknown") when an older agent applied it, so that the
        /// coordinator configures the site again and its configuration is rewritten in the current
        /// format. An upgraded agent's sites get the fence include this way, not at their next change.
        package var reportedVersion: UInt64 {
            (format ?? 1) >= Self.currentFormat ? configVersion : 0
        }
    }

    /// The site's health check as its configuration set it (defaults applied), and whether it has
    /// a certificate (its HTTP listener then answers 301).
    package struct Probe: Codable, Sendable, Equatable {
        package var path: String
        package var expectedStatus: Int
        package var timeoutMilliseconds: Int
        package var tls: Bool

        package init(path: String, expectedStatus: Int, timeoutMilliseconds: Int, tls: Bool) {
            self.path = path
            self.expectedStatus = expectedStatus
            self.timeoutMilliseconds = timeoutMilliseconds
            self.tls = tls
        }

        /// From a site's configuration, validated as the site's tasks validate it; nil when invalid.
        init?(_ site: Chom_Agent_V1_SiteConfig) {
            guard let hosted = try? HostedSite(site) else { return nil }
            self.init(
                path: hosted.health.path, expectedStatus: hosted.health.expectedStatus,
                timeoutMilliseconds: Int(hosted.health.timeout.wholeMilliseconds), tls: hosted.certificateChainPEM != nil)
        }
    }

    package let directory: URL

    package init(directory: URL) {
        self.directory = directory
    }

    /// Records what a succeeded task applied (nothing for kinds that apply no configuration).
    package func update(after task: Chom_Agent_V1_Task) throws {
        switch task.kind {
        case .configure(let configure):
            try save(configure.site, suspended: configure.site.suspended)
        case .suspend(let suspend):
            try save(suspend.site, suspended: suspend.suspended)
        case .deploy(let deploy) where deploy.hasSite:
            try save(deploy.site, suspended: deploy.site.suspended)
        case .restore(let restore):
            try save(restore.site, suspended: restore.site.suspended)
        case .remove(let remove):
            try forget(siteID: remove.site.siteID)
        default:
            break
        }
    }

    /// Every record, by domain (a domain held by two records keeps the higher version).
    package func byDomain() -> [String: Record] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        var records: [String: Record] = [:]
        for name in names where name.hasSuffix(".json") && !name.hasPrefix(".") {
            guard let data = try? PrivateFile.read(directory.appendingPathComponent(name)),
                let record = try? JSONDecoder().decode(Record.self, from: data)
            else { continue }
            if let other = records[record.domain], other.configVersion > record.configVersion { continue }
            records[record.domain] = record
        }
        return records
    }

    private func save(_ site: Chom_Agent_V1_SiteConfig, suspended: Bool) throws {
        guard let name = Self.fileName(site.siteID) else { return }
        try FileManager.default.createDirectory(
            at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let record = Record(
            siteID: site.siteID.lowercased(), domain: site.domain, configVersion: site.configVersion, suspended: suspended,
            format: Record.currentFormat, tenantID: site.tenantID.isEmpty ? nil : site.tenantID.lowercased(),
            probe: Probe(site))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try PrivateFile.write(try encoder.encode(record), to: directory.appendingPathComponent(name))
    }

    private func forget(siteID: String) throws {
        guard let name = Self.fileName(siteID) else { return }
        let url = directory.appendingPathComponent(name)
        guard FileManager.default.fileExists(atPath: url.path) else { return }
        try FileManager.default.removeItem(at: url)
    }

    /// Site ids are UUIDs (validated again here, so an id never names a path).
    static func fileName(_ siteID: String) -> String? {
        UUID(uuidString: siteID).map { $0.uuidString.lowercased() + ".json" }
    }
}
