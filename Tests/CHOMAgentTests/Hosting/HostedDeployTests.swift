import CHOMAgent
import CHOMCore
import CHOMProtocol
import CHOMTesting
import Foundation
import Testing

@Suite("Hosted deploys through a real nginx", .enabled(if: LiveSites.isRoot && TestNginx.binary != nil, Comment(rawValue: LiveSites.rootOnly)))
struct HostedDeployTests {
    @Test("a static deploy is served by nginx with the Host header; the next one replaces it; steps are reported")
    func staticDeploy() async throws {
        try await HostedSiteWorld.with { world in
            let config = HostedSiteWorld.config("shop.test")
            let steps = HostedSiteWorld.Steps()
            let first = await world.deploy(try world.deployTask(config, files: ["public/index.html": "<h1>v1</h1>"]), steps: steps)
            #expect(first.outcome == .succeeded, "\(first.message)")
            #expect(steps.names == ["configure", "fetch", "verify", "extract", "switch", "health", "prune"])
            #expect(try await world.get("shop.test").body == "<h1>v1</h1>")
            let second = await world.deploy(try world.deployTask(config, files: ["public/index.html": "<h1>v2</h1>"]))
            #expect(second.outcome == .succeeded, "\(second.message)")
            #expect(try await world.get("shop.test").body == "<h1>v2</h1>")
            #expect(second.report.releaseID == URL(fileURLWithPath: second.releasePath).lastPathComponent)
            #expect(try await world.get("shop.test", path: "/missing").status == 404)
            // nginx writes the site's own access log; /metrics counts it by status class.
            let labels = #"site="shop.test",tenant="""#
            var text = ""
            for _ in 0..<50 {
                text = world.metrics.text()
                if text.contains(#"chom_site_requests_total{\#(labels),class="4xx"} 1"#) { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(text.contains(#"chom_site_requests_total{\#(labels),class="4xx"} 1"#), "\(text)")
            #expect(text.contains(#"chom_site_release_info{\#(labels),release="\#(second.report.releaseID)"} 1"#))
            #expect(text.contains(#"chom_site_deploys_total{\#(labels),result="succeeded"} 2"#))
            #expect(text.contains("chom_host_cpu_seconds_total"))
        }
    }

    @Test("a deploy whose health check fails is rolled back: the old content is still served")
    func failedHealthRollsBack() async throws {
        try await HostedSiteWorld.with { world in
            var config = HostedSiteWorld.config("roll.test")
            config.healthCheck.path = "/health.txt"
            config.healthCheck.timeoutMs = 1000
            let good = await world.deploy(try world.deployTask(config, files: [
                "public/index.html": "good", "public/health.txt": "ok",
            ]))
            #expect(good.outcome == .succeeded, "\(good.message)")
            let steps = HostedSiteWorld.Steps()
            let bad = await world.deploy(try world.deployTask(config, files: ["public/index.html": "broken"]), steps: steps)
            #expect(bad.outcome == .failed)
            #expect(bad.report.failedStep == "health")
            #expect(bad.message.contains("status 404, expected 200"), "\(bad.message)")
            #expect(bad.message.contains("rolled back"), "\(bad.message)")
            #expect(bad.report.releaseID == good.report.releaseID)
            #expect(steps.names.suffix(2) == ["switch", "rollback"])
            #expect(try await world.get("roll.test").body == "good")
        }
    }

    @Test("a named rollback serves exactly that release; a rollback without a name goes one back")
    func namedRollback() async throws {
        try await HostedSiteWorld.with { world in
            let config = HostedSiteWorld.config("named.test")
            var releases: [String] = []
            for version in ["one", "two", "three"] {
                let result = await world.deploy(try world.deployTask(config, files: ["public/index.html": version]))
                #expect(result.outcome == .succeeded, "\(result.message)")
                releases.append(result.report.releaseID)
            }
            var named = Chom_Agent_V1_RollbackTask()
            named.site = config
            named.releaseID = releases[0]
            let toFirst = await world.sites.rollback(named) { _, _ in }
            #expect(toFirst.outcome == .succeeded, "\(toFirst.message)")
            #expect(toFirst.report.releaseID == releases[0])
            #expect(try await world.get("named.test").body == "one")
            var missing = named
            missing.releaseID = UUID().uuidString.lowercased()
            let refused = await world.sites.rollback(missing) { _, _ in }
            #expect(refused.outcome == .failed)
            #expect(refused.message.contains("not on this agent"))
            #expect(try await world.get("named.test").body == "one")
        }
    }

    @Test("build hooks run as the site user in the new release; a hook past its timeout fails the deploy cleanly")
    func hooks() async throws {
        try await HostedSiteWorld.with { world in
            var config = HostedSiteWorld.config("hooks.test")
            var build = Chom_Agent_V1_BuildHook()
            build.name = "build"
            build.command = "id -un > public/who.txt && echo built >> public/index.html"
            config.hooks = [build]
            let built = await world.deploy(try world.deployTask(config, files: ["public/index.html": "page\n"]))
            #expect(built.outcome == .succeeded, "\(built.message)")
            let site = try HostedSite(config)
            #expect(try await world.get("hooks.test", path: "/who.txt").body == site.user.rawValue + "\n")
            #expect(try await world.get("hooks.test").body == "page\nbuilt\n")

            var slow = Chom_Agent_V1_BuildHook()
            slow.name = "slow"
            slow.command = "sleep 100"
            slow.timeoutSeconds = 1
            config.hooks = [slow]
            let task = try world.deployTask(config, files: ["public/index.html": "never"])
            let timedOut = await world.deploy(task)
            #expect(timedOut.outcome == .failed)
            #expect(timedOut.report.failedStep == "hooks")
            #expect(timedOut.message.contains("timed out"), "\(timedOut.message)")
            let layout = SiteLayout(sitesRoot: world.root, domain: "hooks.test")
            #expect(!FileManager.default.fileExists(atPath: layout.release(task.releaseID).path))
            #expect(try await world.get("hooks.test").body == "page\nbuilt\n")
        }
    }

    @Test("shared paths are linked into every release and keep their content across deploys")
    func sharedPaths() async throws {
        try await HostedSiteWorld.with { world in
            var config = HostedSiteWorld.config("shared.test")
            config.sharedPaths = ["public/uploads/", ".env"]
            let first = await world.deploy(try world.deployTask(config, files: [
                "public/index.html": "v1", "public/uploads/logo.txt": "logo", ".env": "SECRET=1",
            ]))
            #expect(first.outcome == .succeeded, "\(first.message)")
            let second = await world.deploy(try world.deployTask(config, files: ["public/index.html": "v2"]))
            #expect(second.outcome == .succeeded, "\(second.message)")
            #expect(try await world.get("shared.test", path: "/uploads/logo.txt").body == "logo")
            let current = SiteLayout(sitesRoot: world.root, domain: "shared.test").current
            #expect(try String(contentsOf: current.appendingPathComponent(".env"), encoding: .utf8) == "SECRET=1")
            #expect(try await world.get("shared.test", path: "/.env").status == 403)
        }
    }

    @Test("a git deploy clones a local bare repository at a ref")
    func gitDeploy() async throws {
        try await HostedSiteWorld.with { world in
            let repository = try GitFixture.bareRepository(files: ["public/index.html": "from git"], tag: "v1")
            defer { TemporaryDirectory.remove(repository.deletingLastPathComponent()) }
            let config = HostedSiteWorld.config("git.test")
            var task = Chom_Agent_V1_DeployTask()
            task.siteID = config.siteID
            task.domain = config.domain
            task.releaseID = UUID().uuidString.lowercased()
            task.site = config
            task.git.url = "file://" + repository.path
            task.git.ref = "v1"
            let steps = HostedSiteWorld.Steps()
            let result = await world.deploy(task, steps: steps)
            #expect(result.outcome == .succeeded, "\(result.message)")
            #expect(steps.tail(of: "fetch").contains("cloned"))
            #expect(try await world.get("git.test").body == "from git")
            var bad = task
            bad.releaseID = UUID().uuidString.lowercased()
            bad.git.ref = "no-such-tag"
            let failed = await world.deploy(bad)
            #expect(failed.outcome == .failed)
            #expect(failed.report.failedStep == "fetch")
            #expect(try await world.get("git.test").body == "from git")
        }
    }
}
