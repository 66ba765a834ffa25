import CHOMAgent
import CHOMCore
import CHOMTesting
import Foundation
import Glibc
import Testing

@Suite("Build hooks run as the site user, in a clean environment, within a deadline",
       .enabled(if: LiveSites.isRoot, Comment(rawValue: LiveSites.rootOnly)))
struct HookRunnerTests {
    static func context(_ site: LiveSite) throws -> HookRunner.Context {
        let release = try site.publish("r1", files: ["index.html": "x"])
        return HookRunner.Context(account: site.account, site: site.domain, releaseID: "r1", releaseDirectory: release.path)
    }

    @Test("the hook runs as the site's uid and gid with no supplementary group, in the release directory")
    func runsAsSiteUser() async throws {
        try await LiveSites.with(["hook.test"]) { sites in
            let context = try Self.context(sites[0])
            let run = try await HookRunner().run("id -u; id -g; id -G; pwd; touch built", in: context)
            let account = sites[0].account
            #expect(run.logTail == "\(account.uid)\n\(account.gid)\n\(account.gid)\n\(context.releaseDirectory)\n")
            let owner = try FileManager.default.attributesOfItem(atPath: context.releaseDirectory + "/built")[.ownerAccountID]
            #expect((owner as? NSNumber)?.uint32Value == account.uid)
        }
    }

    @Test("the environment is exactly the defined one; a marker set in the agent does not leak")
    func cleanEnvironment() async throws {
        setenv("CHOM_AGENT_LEAK_MARKER", "must-not-leak", 1)
        try await LiveSites.with(["env.test"]) { sites in
            let context = try Self.context(sites[0])
            let runner = HookRunner()
            let run = try await runner.run("env", in: context)
            #expect(!run.logTail.contains("must-not-leak"))
            let expected = runner.environment(for: context).map { "\($0.key)=\($0.value)" }.sorted()
            #expect(run.logTail.split(separator: "\n").map(String.init).sorted() == expected)
            #expect(expected.contains("CHOM_SITE=env.test") && expected.contains("CHOM_RELEASE=r1"))
            #expect(expected.contains("PATH=/usr/local/bin:/usr/bin:/bin") && expected.contains("LANG=C.UTF-8"))
        }
    }

    @Test("a hook past its timeout is killed with its background child, and says so promptly")
    func timeout() async throws {
        try await LiveSites.with(["slow.test"]) { sites in
            let context = try Self.context(sites[0])
            var configuration = HookRunner.Configuration()
            configuration.timeout = .seconds(1)
            configuration.killGrace = .seconds(2)
            let started = ContinuousClock.now
            let failure = await #expect(throws: HookFailure.self) {
                try await HookRunner(configuration: configuration).run(
                    "echo starting; sleep 100 & echo $! > bg.pid; sleep 100", in: context)
            }
            #expect(ContinuousClock.now - started < .seconds(60), "well before the sleeps end (loose: the shared test machine stalls)")
            #expect(failure?.reason == .timedOut(.seconds(1)))
            #expect(failure?.description == "build hook timed out after 1 s and was killed")
            #expect(failure?.logTail == "starting\n")
            let pidText = try String(contentsOfFile: context.releaseDirectory + "/bg.pid", encoding: .utf8)
            let background = try #require(Int32(pidText.filter(\.isNumber)))
            #expect(await CommandRunnerTests.isGone(background))
        }
    }

    @Test("a failing hook reports its exit code and the tail of its output")
    func failure() async throws {
        try await LiveSites.with(["fail.test"]) { sites in
            let context = try Self.context(sites[0])
            let failure = await #expect(throws: HookFailure.self) {
                try await HookRunner().run("seq 1 20000; echo 'npm ERR! missing script: build' >&2; exit 7", in: context)
            }
            #expect(failure?.reason == .exited(7))
            #expect(failure?.description == "build hook failed with exit code 7")
            let tail = failure?.logTail ?? ""
            #expect(tail.utf8.count == 16 * 1024)
            #expect(tail.hasSuffix("19999\n20000\nnpm ERR! missing script: build\n"))
        }
    }

    @Test("a hook never runs as root, and an empty one is refused")
    func refusals() async throws {
        let root = HookRunner.Context(
            account: SiteAccount(name: "root", uid: 0, gid: 0, home: "/root", shell: "/bin/sh"), site: "x.test",
            releaseID: "r1", releaseDirectory: "/tmp")
        let asRoot = await #expect(throws: HookFailure.self) { try await HookRunner().run("id", in: root) }
        #expect(asRoot?.reason == .refused("a hook never runs as root"))
        var user = root
        user.account.uid = 65_534
        user.account.gid = 65_534
        let empty = await #expect(throws: HookFailure.self) { try await HookRunner().run("  ", in: user) }
        #expect(empty?.reason == .refused("the hook is empty"))
    }
}
