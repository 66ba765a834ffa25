import CHOMAgent
import CHOMCore
import CHOMProtocol
import Foundation
import Synchronization
import Testing

@Suite("Deploy executor")
struct DeployExecutorTests {
    /// Collects TaskProgress steps.
    final class Steps: Sendable {
        private let names = Mutex<[String]>([])
        func append(_ name: String) { names.withLock { $0.append(name) } }
        var all: [String] { names.withLock { $0 } }
    }

    func executor(sitesRoot: URL, artifacts: [String: Data], metrics: AgentMetrics? = nil) -> DeployExecutor {
        DeployExecutor(
            sitesRoot: sitesRoot, artifacts: MemoryArtifactSource(artifacts: artifacts), metrics: metrics,
            clock: ManualWallClock(), logger: Fixtures.logger)
    }

    func deploy(
        _ executor: DeployExecutor, _ task: Chom_Agent_V1_Task, steps: Steps = Steps()
    ) async -> ExecutionResult {
        await executor.execute(task.deploy) { step, _ in steps.append(step) }
    }

    func currentTarget(_ site: URL) throws -> String {
        try FileManager.default.destinationOfSymbolicLink(atPath: site.appendingPathComponent("current").path)
    }

    @Test("a tar.zst deploys into releases/<id> and current points at it")
    func deploysRelease() async throws {
        try await Fixtures.withTemporaryDirectory { root in
            let artifact = try Fixtures.tarZst(["index.html": "<h1>hello</h1>", "css/site.css": "body{}"])
            let task = Fixtures.deployTask(artifact: artifact)
            let metrics = AgentMetrics()
            let steps = Steps()
            let result = await deploy(
                executor(sitesRoot: root, artifacts: [task.deploy.releaseID: artifact], metrics: metrics), task,
                steps: steps)
            #expect(result.outcome == .succeeded, "\(result.message)")
            let site = root.appendingPathComponent("example.test")
            let release = site.appendingPathComponent("releases/\(task.deploy.releaseID)")
            #expect(result.releasePath == release.path)
            #expect(try currentTarget(site) == "releases/\(task.deploy.releaseID)")
            let page = try String(contentsOf: site.appendingPathComponent("current/index.html"), encoding: .utf8)
            #expect(page == "<h1>hello</h1>")
            #expect(steps.all == ["fetch", "verify", "extract", "switch", "prune"])
            let incoming = try FileManager.default.contentsOfDirectory(atPath: site.appendingPathComponent(".incoming").path)
            #expect(incoming.isEmpty)
            #expect(metrics.text().contains(#"chom_site_deploys_total{site="example.test",tenant="",result="succeeded"} 1"#))
        }
    }

    @Test("a wrong SHA-256 fails the deploy and leaves the previous current untouched")
    func wrongDigest() async throws {
        try await Fixtures.withTemporaryDirectory { root in
            let good = try Fixtures.tarZst(["index.html": "v1"])
            let first = Fixtures.deployTask(artifact: good)
            let bad = try Fixtures.tarZst(["index.html": "v2"])
            let second = Fixtures.deployTask(artifact: bad, sha256: String(repeating: "0", count: 64))
            let executor = executor(
                sitesRoot: root, artifacts: [first.deploy.releaseID: good, second.deploy.releaseID: bad])
            #expect(await deploy(executor, first).outcome == .succeeded)
            let result = await deploy(executor, second)
            #expect(result.outcome == .failed)
            #expect(result.message.contains("verify"))
            #expect(result.message.contains("sha256"))
            let site = root.appendingPathComponent("example.test")
            #expect(try currentTarget(site) == "releases/\(first.deploy.releaseID)")
            #expect(!FileManager.default.fileExists(atPath: site.appendingPathComponent("releases/\(second.deploy.releaseID)").path))
            #expect(try FileManager.default.contentsOfDirectory(atPath: site.appendingPathComponent(".incoming").path).isEmpty)
        }
    }

    @Test("an artifact longer than the signed size is cut off")
    func oversizeArtifact() async throws {
        try await Fixtures.withTemporaryDirectory { root in
            let artifact = try Fixtures.tarZst(["index.html": String(repeating: "x", count: 5000)])
            var task = Fixtures.deployTask(artifact: artifact)
            task.deploy.artifactSize = 100
            let result = await deploy(executor(sitesRoot: root, artifacts: [task.deploy.releaseID: artifact]), task)
            #expect(result.outcome == .failed)
            #expect(result.message.contains("larger than the signed size"))
        }
    }

    @Test("keep_releases = 2 prunes older releases but never current")
    func prunes() async throws {
        try await Fixtures.withTemporaryDirectory { root in
            var artifacts: [String: Data] = [:]
            var tasks: [Chom_Agent_V1_Task] = []
            for index in 1...4 {
                let artifact = try Fixtures.tarZst(["index.html": "v\(index)"])
                let task = Fixtures.deployTask(artifact: artifact, keep: 2)
                artifacts[task.deploy.releaseID] = artifact
                tasks.append(task)
            }
            let executor = executor(sitesRoot: root, artifacts: artifacts)
            for task in tasks {
                #expect(await deploy(executor, task).outcome == .succeeded)
            }
            let releases = root.appendingPathComponent("example.test/releases")
            let kept = Set(try FileManager.default.contentsOfDirectory(atPath: releases.path))
            #expect(kept == [tasks[2].deploy.releaseID, tasks[3].deploy.releaseID])

            // Redeploying an old-but-kept release makes it current; the next prune keeps it.
            #expect(await deploy(executor, Fixtures.deployTask(
                releaseID: tasks[2].deploy.releaseID, artifact: artifacts[tasks[2].deploy.releaseID]!, keep: 1)).outcome
                == .succeeded)
            let site = root.appendingPathComponent("example.test")
            #expect(try currentTarget(site) == "releases/\(tasks[2].deploy.releaseID)")
            #expect(Set(try FileManager.default.contentsOfDirectory(atPath: releases.path)) == [tasks[2].deploy.releaseID])
        }
    }

    @Test("an artifact with a ../evil entry fails and writes nothing outside the site")
    func traversal() async throws {
        try await Fixtures.withTemporaryDirectory { root in
            let artifact = try Fixtures.traversalTarZst()
            let task = Fixtures.deployTask(artifact: artifact)
            let result = await deploy(executor(sitesRoot: root, artifacts: [task.deploy.releaseID: artifact]), task)
            #expect(result.outcome == .failed)
            #expect(result.message.contains("extract"))
            let site = root.appendingPathComponent("example.test")
            #expect(!FileManager.default.fileExists(atPath: site.appendingPathComponent("releases/evil").path))
            #expect(!FileManager.default.fileExists(atPath: site.appendingPathComponent(".incoming/evil").path))
            #expect(!FileManager.default.fileExists(atPath: site.appendingPathComponent("current").path))
            #expect(try FileManager.default.contentsOfDirectory(atPath: site.appendingPathComponent("releases").path).isEmpty)
        }
    }

    @Test("tasks with an unusable domain or release id are refused", arguments: [
        ("../etc", UUID().uuidString), ("Example.test", UUID().uuidString), ("example.test", "../../x"),
    ])
    func refusesBadFields(domain: String, releaseID: String) async throws {
        try await Fixtures.withTemporaryDirectory { root in
            let artifact = Data("x".utf8)
            let task = Fixtures.deployTask(domain: domain, releaseID: releaseID, artifact: artifact)
            let result = await deploy(executor(sitesRoot: root, artifacts: [releaseID: artifact]), task)
            #expect(result.outcome == .refused)
            #expect((try? FileManager.default.contentsOfDirectory(atPath: root.path).isEmpty) == true)
        }
    }
}
