import CHOMAgent
import CHOMCore
import CHOMProtocol
import CHOMTesting
import Foundation
import Testing

/// Site logs written by a real nginx: read back by the typed task, rotated by the agent.
@Suite("Site logs through a real nginx", .enabled(if: LiveSites.isRoot && TestNginx.binary != nil, Comment(rawValue: LiveSites.rootOnly)))
struct HostedSiteLogTests {
    static func read(
        _ world: HostedSiteWorld, _ config: Chom_Agent_V1_SiteConfig, _ kind: Chom_Agent_V1_SiteLogKind, tail: UInt32
    ) -> ExecutionResult {
        var task = Chom_Agent_V1_ReadSiteLogsTask()
        task.site = config
        task.kind = kind
        task.tail = tail
        return world.logSites.readLogs(task)
    }

    /// Polls (deadline 10 s) until `done` holds for a read of the log.
    static func eventually(
        _ world: HostedSiteWorld, _ config: Chom_Agent_V1_SiteConfig, _ kind: Chom_Agent_V1_SiteLogKind, tail: UInt32,
        _ done: ([String]) -> Bool
    ) async throws -> ExecutionResult {
        let deadline = ContinuousClock.now + .seconds(10)
        var result = read(world, config, kind, tail: tail)
        while !(result.outcome == .succeeded && done(result.report.siteLogs.lines)), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
            result = read(world, config, kind, tail: tail)
        }
        return result
    }

    @Test("the task returns the last N access-log lines nginx wrote, oldest first, and the error log's")
    func readsTail() async throws {
        try await HostedSiteWorld.with { world in
            let config = HostedSiteWorld.config("logs.test")
            let deployed = await world.deploy(try world.deployTask(config, files: ["public/index.html": "hello"]))
            #expect(deployed.outcome == .succeeded, "\(deployed.message)")
            for index in 0..<5 { _ = try await world.get("logs.test", path: "/page-\(index)") }
            _ = try await world.get("logs.test", path: "/.secret")
            let access = try await Self.eventually(world, config, .access, tail: 3) { $0.last?.contains("/.secret") == true }
            #expect(access.outcome == .succeeded, "\(access.message)")
            let lines = access.report.siteLogs.lines
            try #require(lines.count == 3, "\(lines)")
            #expect(lines[0].contains("GET /page-3 "))
            #expect(lines[1].contains("GET /page-4 "))
            #expect(lines[2].contains("GET /.secret ") && lines[2].contains(" 403 "))
            #expect(!access.report.siteLogs.truncated)
            let all = Self.read(world, config, .access, tail: 1000)
            #expect(all.report.siteLogs.lines.count >= 6, "\(all.report.siteLogs.lines)")

            let errors = try await Self.eventually(world, config, .error, tail: 10) { $0.contains { $0.contains("/.secret") } }
            #expect(errors.outcome == .succeeded, "\(errors.message)")
            #expect(errors.report.siteLogs.lines.contains { $0.contains("access forbidden by rule") }, "\(errors.report.siteLogs.lines)")
        }
    }

    @Test("tail outside 1…1000 and an unknown kind are refused; a missing log fails saying so")
    func boundsAndMissing() async throws {
        try await HostedSiteWorld.with { world in
            let config = HostedSiteWorld.config("bounds.test")
            for tail: UInt32 in [0, 1001] {
                let result = Self.read(world, config, .access, tail: tail)
                #expect(result.outcome == .refused && result.message.contains("tail"), "\(result.message)")
            }
            let unknown = Self.read(world, config, .unspecified, tail: 10)
            #expect(unknown.outcome == .refused && unknown.message.contains("kind"), "\(unknown.message)")
            var bad = config
            bad.domain = "../../etc"
            #expect(Self.read(world, bad, .access, tail: 10).outcome == .refused)

            // Never configured here: no log directory at all.
            let never = Self.read(world, config, .access, tail: 10)
            #expect(never.outcome == .failed, "\(never.message)")
            #expect(never.report.failedStep == SiteTaskExecutor.missingLogStep)
            #expect(never.message.contains("no access log for bounds.test"), "\(never.message)")

            // Configured, then its error log taken away.
            let deployed = await world.deploy(try world.deployTask(config, files: ["public/index.html": "x"]))
            #expect(deployed.outcome == .succeeded, "\(deployed.message)")
            let directory = world.hosting.configuration.logsDirectory.appendingPathComponent("bounds.test")
            try FileManager.default.removeItem(at: directory.appendingPathComponent("error.log"))
            let gone = Self.read(world, config, .error, tail: 10)
            #expect(gone.outcome == .failed && gone.report.failedStep == SiteTaskExecutor.missingLogStep, "\(gone.message)")

            // A symlink in the log's place is never followed.
            try FileManager.default.createSymbolicLink(
                atPath: directory.appendingPathComponent("error.log").path, withDestinationPath: "/etc/shadow")
            let link = Self.read(world, config, .error, tail: 10)
            #expect(link.outcome == .failed && link.report.siteLogs.lines.isEmpty, "\(link.message)")
            #expect(link.report.failedStep != SiteTaskExecutor.missingLogStep)
        }
    }

    /// `chom_site_requests_total{site=…,class="2xx"}` as rendered now.
    static func served(_ world: HostedSiteWorld, _ domain: String) -> Int {
        let line = world.metrics.text().split(separator: "\n").first {
            $0.hasPrefix("chom_site_requests_total{") && $0.contains("site=\"\(domain)\"") && $0.contains("class=\"2xx\"")
        }
        return line.flatMap { Int($0.split(separator: " ").last ?? "") } ?? -1
    }

    /// Sends `/?<tag>-<n>` until one is in `file` (after a rotation nginx's workers reopen
    /// within moments, so the first requests may still land in the renamed file); its text.
    static func untilLogged(_ world: HostedSiteWorld, _ domain: String, tag: String, in file: URL) async throws -> String {
        var text = ""
        var sent = 0
        let deadline = ContinuousClock.now + .seconds(10)
        while !text.contains("?\(tag)-"), ContinuousClock.now < deadline {
            _ = try await world.get(domain, path: "/?\(tag)-\(sent)")
            sent += 1
            try await Task.sleep(for: .milliseconds(20))
            text = (try? String(contentsOf: file, encoding: .utf8)) ?? ""
        }
        return text
    }

    @Test("rotation renames access.log to .1 (keeping N), nginx writes a fresh file after reopen, and the request counter goes on")
    func rotation() async throws {
        try await HostedSiteWorld.with { world in
            let domain = "rotate.test"
            let config = HostedSiteWorld.config(domain)
            let deployed = await world.deploy(try world.deployTask(config, files: ["public/index.html": "hello"]))
            #expect(deployed.outcome == .succeeded, "\(deployed.message)")
            let directory = world.hosting.configuration.logsDirectory.appendingPathComponent(domain)
            let access = directory.appendingPathComponent("access.log")
            // The deploy's health check is in the log (and counted) before the baseline is taken.
            _ = try await Self.eventually(world, config, .access, tail: 1) { !$0.isEmpty }
            let baseline = Self.served(world, domain)
            #expect(baseline >= 1)
            for index in 0..<3 { _ = try await world.get(domain, path: "/?before-\(index)") }
            _ = try await Self.eventually(world, config, .access, tail: 1) { $0.last?.contains("?before-2") == true }
            #expect(Self.served(world, domain) == baseline + 3)

            var settings = SiteLogRotator.Configuration()
            settings.maxBytes = 1
            settings.keep = 2
            let nginx = world.hosting.nginx
            let rotator = SiteLogRotator(
                logsDirectory: world.hosting.configuration.logsDirectory, configuration: settings, logger: Fixtures.logger,
                reopen: { _ = try await nginx.reopenLogs() })
            let rotated = try await rotator.rotateOnce()
            #expect(rotated.contains("\(domain)/access.log"), "\(rotated)")
            let first = try String(contentsOf: directory.appendingPathComponent("access.log.1"), encoding: .utf8)
            #expect(first.contains("?before-2"))

            // nginx reopens (a signal: its workers follow within moments): requests until one lands
            // in the fresh access.log.
            let fresh = try await Self.untilLogged(world, domain, tag: "after", in: access)
            #expect(fresh.contains("?after-") && !fresh.contains("?before-"), "\(fresh)")
            // The counter went on from the new file (lines the workers still wrote to .1 after the
            // last scrape are not counted, as AccessLogTail documents).
            // A request's line may be written just after its answer: the file is re-read each time.
            var expected = 0
            var counted = -1
            let deadline = ContinuousClock.now + .seconds(10)
            while ContinuousClock.now < deadline {
                let now = (try? String(contentsOf: access, encoding: .utf8)) ?? fresh
                expected = baseline + 3 + now.split(separator: "\n").count
                counted = Self.served(world, domain)
                if counted == expected { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(counted == expected, "the counter follows the new file")

            // Two more rotations: .1 → .2, the oldest dropped, never a .3.
            for round in 1...2 {
                _ = try await Self.untilLogged(world, domain, tag: "round-\(round)", in: access)
                #expect(try await rotator.rotateOnce().contains("\(domain)/access.log"))
            }
            let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasPrefix("access.log") }
            #expect(Set(names).isSuperset(of: ["access.log.1", "access.log.2"]) && !names.contains("access.log.3"), "\(names)")
            let newest = try String(contentsOf: directory.appendingPathComponent("access.log.1"), encoding: .utf8)
            #expect(newest.contains("?round-2"), "\(newest)")
            // Below the limit nothing moves.
            var large = settings
            large.maxBytes = 1 << 30
            let idle = SiteLogRotator(
                logsDirectory: world.hosting.configuration.logsDirectory, configuration: large, logger: Fixtures.logger,
                reopen: { Issue.record("reopen without a rotation") })
            #expect(try await idle.rotateOnce().isEmpty)
        }
    }
}

extension HostedSiteWorld {
    /// `sites` with the hosting's log directory, as the agent's dispatcher builds it.
    var logSites: SiteTaskExecutor {
        SiteTaskExecutor(
            sitesRoot: root, hosting: hosting, clock: SystemWallClock(), logger: Fixtures.logger,
            logsDirectory: hosting.configuration.logsDirectory)
    }
}
