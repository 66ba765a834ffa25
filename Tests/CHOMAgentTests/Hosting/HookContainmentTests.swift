import CHOMAgent
import CHOMCore
import Foundation
import Glibc
import Testing

/// Real hooks as real site users, in real cgroups: what a hook starts ends with it.
@Suite("Build hooks leave nothing running and stay within their limits",
       .enabled(if: LiveSites.isRoot, Comment(rawValue: LiveSites.rootOnly)))
struct HookContainmentTests {
    /// Runs `body` with one live site and a probe; afterwards kills whatever carries the probe's
    /// marker and removes the site user's run cgroups, whether the test passed or not.
    static func withSite(
        _ domain: String, _ body: (LiveSite, HookRunner.Context, ContainmentProbe) async throws -> Void
    ) async throws {
        let probe = ContainmentProbe()
        try await LiveSites.with([domain]) { sites in
            defer {
                probe.killSurvivors()
                ContainmentProbe.removeCgroups(of: sites[0].account.name)
            }
            try await body(sites[0], try HookRunnerTests.context(sites[0]), probe)
        }
    }

    /// A `setsid` sleeper, a double-forked one (both alive when it prints `escaped`) and, with
    /// `foreground`, one the hook waits on.
    static func escapes(_ probe: ContainmentProbe, foreground: Bool = false) -> String {
        """
        setsid sleep \(probe.marker) > /dev/null 2>&1 & echo $! > setsid.pid
        ( sleep \(probe.marker) > /dev/null 2>&1 & echo $! > fork.pid ) &
        while [ ! -s fork.pid ]; do sleep 0.05; done
        kill -0 "$(cat setsid.pid)" "$(cat fork.pid)" && echo escaped
        \(foreground ? "sleep \(probe.marker)" : "")
        """
    }

    @Test("a hook's setsid and double-forked children are killed when it returns, and its cgroup removed")
    func nothingSurvivesSuccess() async throws {
        try await Self.withSite("escape.test") { site, context, probe in
            let run = try await HookRunner().run(Self.escapes(probe), in: context)
            #expect(run.logTail == "escaped\n")
            #expect(await probe.allGone(), "survivors: \(probe.survivors)")
            #expect(await ContainmentProbe.noCgroups(of: site.account.name), "\(ContainmentProbe.cgroups(of: site.account.name))")
        }
    }

    @Test("past its timeout a hook is killed with its setsid and double-forked children")
    func nothingSurvivesTimeout() async throws {
        try await Self.withSite("escape-slow.test") { site, context, probe in
            var configuration = HookRunner.Configuration()
            configuration.timeout = .seconds(2)
            configuration.killGrace = .milliseconds(500)
            let started = ContinuousClock.now
            let failure = await #expect(throws: HookFailure.self) {
                try await HookRunner(configuration: configuration).run(Self.escapes(probe, foreground: true), in: context)
            }
            #expect(failure?.reason == .timedOut(.seconds(2)))
            #expect(failure?.logTail == "escaped\n")
            #expect(ContinuousClock.now - started < .seconds(60), "well before the sleeps end")
            #expect(await probe.allGone(), "survivors: \(probe.survivors)")
            #expect(await ContainmentProbe.noCgroups(of: site.account.name))
        }
    }

    @Test("the hook is in its run's cgroup from its first instruction, in v2 and in each v1 hierarchy used")
    func joinsBeforeExec() async throws {
        try await Self.withSite("joined.test") { site, context, _ in
            let run = try await HookRunner().run("cat /proc/self/cgroup", in: context)
            let prefix = "hook-\(site.account.name)-"
            let lines = run.logTail.split(separator: "\n")
            #expect(lines.contains { $0.hasPrefix("0::") && $0.contains(prefix) }, "\(run.logTail)")
            let cgroups = try RunCgroups.prepare(CgroupConfiguration())
            for controller in cgroups.v1Bases.keys {
                #expect(lines.contains { $0.contains(":\(controller):") && $0.contains(prefix) }, "\(controller): \(run.logTail)")
            }
        }
    }

    @Test("a fork bomb under a small process limit fails its hook, and the agent's process can still fork")
    func forkBomb() async throws {
        try await Self.withSite("bomb.test") { site, context, probe in
            var configuration = HookRunner.Configuration()
            configuration.cgroups.pidsMax = 20
            configuration.timeout = .seconds(60)
            let cgroups = try RunCgroups.prepare(configuration.cgroups)
            try #require(cgroups.unifiedControllers.contains("pids") || cgroups.v1Bases["pids"] != nil, "no pids controller")
            // Bounded: 200 sleepers, of which at most 20 processes may exist at once.
            let bomb = "i=0; while [ $i -lt 200 ]; do sleep \(probe.marker) & i=$((i+1)); done; wait"
            let failure = await #expect(throws: HookFailure.self) {
                try await HookRunner(configuration: configuration).run(bomb, in: context)
            }
            #expect(failure?.reason == .processLimit(20))
            #expect(failure?.description == "build hook reached its limit of 20 processes and was killed")
            #expect(await probe.allGone(), "survivors: \(probe.survivors)")
            #expect(await ContainmentProbe.noCgroups(of: site.account.name))
            // This process (the agent's place) is not limited: 40 children at once.
            let outcome = try await CommandRunner().run(CommandRunner.Command(
                "/bin/sh", ["-c", "for i in $(seq 40); do sleep 0.5 & done; wait; echo ok"], timeout: .seconds(60)))
            #expect(outcome.succeeded && outcome.outputText == "ok\n", "\(outcome.outputText)")
        }
    }

    @Test("a hook past its memory limit fails with that reason, where a memory controller is available")
    func memoryLimit() async throws {
        var configuration = HookRunner.Configuration()
        configuration.cgroups.memoryMax = 32 << 20
        let cgroups = try RunCgroups.prepare(configuration.cgroups)
        guard cgroups.unifiedControllers.contains("memory") || cgroups.v1Bases["memory"] != nil else { return }
        try await Self.withSite("memory.test") { site, context, _ in
            // tail keeps a line until its end, and /dev/zero has none: it grows until killed.
            let failure = await #expect(throws: HookFailure.self) {
                try await HookRunner(configuration: configuration).run("head -c 512M /dev/zero | tail -n 1 | wc -c", in: context)
            }
            #expect(failure?.reason == .memoryLimit(32 << 20), "\(String(describing: failure))")
            #expect(await ContainmentProbe.noCgroups(of: site.account.name))
        }
    }

    @Test("without a usable cgroup the hook is refused with the reason, and nothing runs")
    func refusedWithoutCgroups() async throws {
        try await Self.withSite("nocgroup.test") { _, context, _ in
            var configuration = HookRunner.Configuration()
            configuration.cgroups.base = "/nonexistent-chom-test/chom-runs"
            let failure = await #expect(throws: HookFailure.self) {
                try await HookRunner(configuration: configuration).run("touch ran", in: context)
            }
            guard case .refused(let why) = failure?.reason else {
                Issue.record("not refused: \(String(describing: failure))")
                return
            }
            #expect(why.contains("cannot be contained") && why.contains("/nonexistent-chom-test/chom-runs"), "\(why)")
            #expect(failure?.description.hasPrefix("build hook refused: its processes cannot be contained") == true)
            #expect(!FileManager.default.fileExists(atPath: context.releaseDirectory + "/ran"))
        }
    }

    @Test("a site's private temporary directory is TMPDIR, TMP and TEMP")
    func temporaryDirectory() async throws {
        try await Self.withSite("tmp.test") { site, context, _ in
            var context = context
            let temporary = site.layout.site.appendingPathComponent("tmp").path
            try FileManager.default.createDirectory(atPath: temporary, withIntermediateDirectories: true)
            chown(temporary, site.account.uid, site.account.gid)
            chmod(temporary, 0o700)
            context.temporaryDirectory = temporary
            let run = try await HookRunner().run("echo \"$TMPDIR $TMP $TEMP\"; mktemp", in: context)
            let lines = run.logTail.split(separator: "\n").map(String.init)
            #expect(lines.first == "\(temporary) \(temporary) \(temporary)")
            #expect(lines.last?.hasPrefix(temporary + "/tmp.") == true, "\(run.logTail)")
            #expect(!HookRunner().environment(for: try HookRunnerTests.context(site)).keys.contains("TMPDIR"))
        }
    }
}
