import CHOMAgent
import CHOMCore
import CHOMProtocol
import CHOMTesting
import Foundation
import Testing

@Suite("Inventory: the site trees an agent holds, joined with its site records; a sequence that only rises")
struct InventoryReporterTests {
    struct Clock: WallClock {
        var date: Date
        func now() -> Date { date }
    }

    static func configuration(_ directory: URL) -> AgentConfiguration {
        AgentConfiguration(stateDirectory: directory, sitesRoot: directory.appendingPathComponent("root"))
    }

    static func siteConfig(_ id: SiteID, domain: String, version: UInt64, suspended: Bool = false) -> Chom_Agent_V1_SiteConfig {
        var config = Chom_Agent_V1_SiteConfig()
        config.siteID = id.description
        config.domain = domain
        config.configVersion = version
        config.suspended = suspended
        return config
    }

    @Test("trees are reported with their live release; records add the id, config version and suspension")
    func reportsTreesAndRecords() throws {
        let directory = try TemporaryDirectory.make(prefix: "chom-inventory")
        defer { TemporaryDirectory.remove(directory) }
        let configuration = Self.configuration(directory)
        let reporter = InventoryReporter(configuration: configuration, clock: Clock(date: Date(timeIntervalSince1970: 1)))
        #expect(reporter.sites().isEmpty)

        let known = SiteID()
        let release = ReleaseID().description
        let live = SiteLayout(sitesRoot: configuration.sitesRoot, domain: "known.test")
        try live.prepare()
        try FileManager.default.createDirectory(at: live.release(release), withIntermediateDirectories: true)
        try live.switchCurrent(to: release)
        try SiteLayout(sitesRoot: configuration.sitesRoot, domain: "legacy.test").prepare()
        // Not a domain: not a site (the agent's work directory lives here too).
        try FileManager.default.createDirectory(
            at: configuration.sitesRoot.appendingPathComponent(".chom-work"), withIntermediateDirectories: true)

        var configure = Chom_Agent_V1_Task()
        configure.configure.site = Self.siteConfig(known, domain: "known.test", version: 4)
        try reporter.records.update(after: configure)
        var suspend = Chom_Agent_V1_Task()
        suspend.suspend.site = Self.siteConfig(known, domain: "known.test", version: 5)
        suspend.suspend.suspended = true
        try reporter.records.update(after: suspend)
        // Kinds that apply no configuration leave the record alone.
        var rollback = Chom_Agent_V1_Task()
        rollback.rollback.site = Self.siteConfig(known, domain: "known.test", version: 9)
        try reporter.records.update(after: rollback)

        let sites = reporter.sites()
        #expect(sites.map(\.domain) == ["known.test", "legacy.test"])
        #expect(sites[0].siteID == known.description && sites[0].releaseID == release)
        #expect(sites[0].configVersion == 5 && sites[0].suspended)
        #expect(sites[1].siteID.isEmpty && sites[1].releaseID.isEmpty && sites[1].configVersion == 0)

        var remove = Chom_Agent_V1_Task()
        remove.remove.site = Self.siteConfig(known, domain: "known.test", version: 5)
        try reporter.records.update(after: remove)
        #expect(reporter.records.byDomain().isEmpty)
        #expect(reporter.sites()[0].siteID.isEmpty)
        // A site id that is not a UUID never names a file.
        var hostile = Chom_Agent_V1_Task()
        hostile.configure.site.siteID = "../../etc/passwd"
        hostile.configure.site.domain = "known.test"
        try reporter.records.update(after: hostile)
        #expect(reporter.records.byDomain().isEmpty)
    }

    @Test("a record written by an agent older than the fence reports version 0, so the site is configured again with it")
    func olderRecordsAreReconfigured() throws {
        let directory = try TemporaryDirectory.make(prefix: "chom-inventory-format")
        defer { TemporaryDirectory.remove(directory) }
        let configuration = Self.configuration(directory)
        let reporter = InventoryReporter(configuration: configuration, clock: Clock(date: Date(timeIntervalSince1970: 1)))
        let site = SiteID()
        try SiteLayout(sitesRoot: configuration.sitesRoot, domain: "old.test").prepare()
        // The record exactly as the agent before the fence wrote it: no format.
        try FileManager.default.createDirectory(at: reporter.records.directory, withIntermediateDirectories: true)
        let older = #"{"configVersion":7,"domain":"old.test","siteID":"\#(site.description)","suspended":false}"#
        try Data(older.utf8).write(to: reporter.records.directory.appendingPathComponent(site.description + ".json"))
        #expect(reporter.records.byDomain()["old.test"]?.configVersion == 7)
        var reported = try #require(reporter.sites().first)
        #expect(reported.siteID == site.description && reported.configVersion == 0)

        // The configure the coordinator sends for it is recorded in the current format.
        var configure = Chom_Agent_V1_Task()
        configure.configure.site = Self.siteConfig(site, domain: "old.test", version: 7)
        try reporter.records.update(after: configure)
        reported = try #require(reporter.sites().first)
        #expect(reported.configVersion == 7)
        #expect(reporter.records.byDomain()["old.test"]?.format == SiteRecordStore.Record.currentFormat)
    }

    @Test("every report raises the sequence, persisted across restarts, never below the wall clock in ms")
    func sequenceRises() throws {
        let directory = try TemporaryDirectory.make(prefix: "chom-inventory-seq")
        defer { TemporaryDirectory.remove(directory) }
        let configuration = Self.configuration(directory)
        let early = Clock(date: Date(timeIntervalSince1970: 1))
        let first = InventoryReporter(configuration: configuration, clock: early)
        let one = try first.next().sequence
        let two = try first.next().sequence
        #expect(one == 1000 && two == 1001)
        // A restart continues above what was reported, even with a clock that went back.
        let restarted = InventoryReporter(configuration: configuration, clock: Clock(date: Date(timeIntervalSince1970: 0)))
        #expect(restarted.lastSequence == two)
        #expect(try restarted.next().sequence == 1002)
        // A lost file: the wall clock keeps it above everything reported before.
        try FileManager.default.removeItem(at: restarted.sequenceFile)
        let later = InventoryReporter(configuration: configuration, clock: Clock(date: Date(timeIntervalSince1970: 2)))
        #expect(try later.next().sequence == 2000)
        let mode = try FileManager.default.attributesOfItem(atPath: later.sequenceFile.path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
    }
}
