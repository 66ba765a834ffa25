import CHOMAgent
import CHOMCore
import CHOMProtocol
import CHOMTesting
import Foundation
import Synchronization

/// A real nginx, a sites root and `LinuxSiteHosting` + executors wired as the agent wires them,
/// for end-to-end hosting tests. Sites it configured are removed (users included) afterwards.
struct HostedSiteWorld: Sendable {
    let nginx: TestNginx
    let root: URL
    let hosting: LinuxSiteHosting
    let metrics: AgentMetrics
    let artifacts: ArtifactBox

    static func with<T>(_ body: (HostedSiteWorld) async throws -> T) async throws -> T {
        try await TestNginx.with { nginx in
            let root = try TemporaryDirectory.make(prefix: "h-hosted")
            let state = try TemporaryDirectory.make(prefix: "h-state")
            var configuration = HostingConfiguration(stateDirectory: state, sitesRoot: root)
            configuration.nginx = nginx.controllerConfiguration
            configuration.site = nginx.siteConfiguration
            configuration.siteUIDs = SiteUIDs(
                file: state.appendingPathComponent("site-uids.next"), range: TestSiteUIDs.nextRange())
            let metrics = AgentMetrics()
            let world = HostedSiteWorld(
                nginx: nginx, root: root, hosting: LinuxSiteHosting(configuration: configuration, metrics: metrics),
                metrics: metrics, artifacts: ArtifactBox())
            defer {
                TemporaryDirectory.remove(root)
                TemporaryDirectory.remove(state)
            }
            do {
                let result = try await body(world)
                await world.removeUsers()
                return result
            } catch {
                await world.removeUsers()
                throw error
            }
        }
    }

    private func removeUsers() async {
        await hosting.apps.stopAll()
        await hosting.php.stopAll()
        let domains = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
        for domain in domains {
            // The site directory is root's; home/ is the site user's.
            guard let owner = try? FileManager.default.attributesOfItem(atPath: root.appendingPathComponent(domain).appendingPathComponent("home").path)[.ownerAccountName] as? String,
                let name = SiteUserName(rawValue: owner)
            else { continue }
            try? await SiteUsers().remove(name)
        }
    }

    var deployer: DeployExecutor {
        DeployExecutor(
            sitesRoot: root, artifacts: WorldArtifacts(world: self), hosting: hosting, metrics: metrics,
            clock: SystemWallClock(), logger: Fixtures.logger)
    }

    var backups: BackupExecutor {
        BackupExecutor(
            sitesRoot: root, workDirectory: root.appendingPathComponent(".chom-work"), hosting: hosting,
            metrics: metrics, clock: SystemWallClock(), logger: Fixtures.logger)
    }

    var sites: SiteTaskExecutor {
        SiteTaskExecutor(sitesRoot: root, hosting: hosting, clock: SystemWallClock(), logger: Fixtures.logger)
    }

    static func config(_ domain: String, id: SiteID = SiteID(), _ change: (inout Chom_Agent_V1_SiteConfig) -> Void = { _ in })
        -> Chom_Agent_V1_SiteConfig
    {
        var config = Chom_Agent_V1_SiteConfig()
        config.siteID = id.description
        config.domain = domain
        config.kind = .static
        config.healthCheck.timeoutMs = 3000
        change(&config)
        return config
    }

    /// A deploy of `files` (path → text) for `config`, the artifact kept for the executor to fetch.
    func deployTask(_ config: Chom_Agent_V1_SiteConfig, files: [String: String]) throws -> Chom_Agent_V1_DeployTask {
        let artifact = try Fixtures.tarZst(files)
        let releaseID = UUID().uuidString.lowercased()
        artifacts.store.withLock { $0[releaseID] = artifact }
        var deploy = Chom_Agent_V1_DeployTask()
        deploy.siteID = config.siteID
        deploy.domain = config.domain
        deploy.releaseID = releaseID
        deploy.artifactSha256 = Fixtures.sha256Hex(artifact)
        deploy.artifactSize = UInt64(artifact.count)
        deploy.artifactFormat = .tarZstd
        deploy.site = config
        return deploy
    }

    func deploy(_ task: Chom_Agent_V1_DeployTask, steps: Steps = Steps()) async -> ExecutionResult {
        await deployer.execute(task) { step, tail in steps.append(step, tail) }
    }

    /// A deploy whose every reported step runs `progress` before the deploy goes on.
    func deploy(_ task: Chom_Agent_V1_DeployTask, progress: @escaping ProgressReporter) async -> ExecutionResult {
        await deployer.execute(task, progress: progress)
    }

    /// GET through nginx with the Host header, once the workers of any earlier configuration
    /// are gone (for a moment after a reload they still answer with the old one).
    func get(_ domain: String, path: String = "/") async throws -> HealthCheck.Response {
        try await nginx.waitForWorkers()
        return try await HealthCheck(port: nginx.port, timeout: .seconds(5)).get(host: domain, path: path)
    }

    final class Steps: Sendable {
        private let entries = Mutex<[(String, String)]>([])
        func append(_ step: String, _ tail: String) { entries.withLock { $0.append((step, tail)) } }
        var names: [String] { entries.withLock { $0.map(\.0) } }
        func tail(of step: String) -> String { entries.withLock { $0.last { $0.0 == step }?.1 ?? "" } }
    }
}

struct WorldArtifacts: ArtifactSource {
    let world: HostedSiteWorld
    func fetch(releaseID: String, into sink: ArtifactSink) async throws {
        guard let data = world.artifacts.store.withLock({ $0[releaseID] }) else { throw CHOMError(.notFound, "no artifact \(releaseID)") }
        try sink.write(data)
    }
}

final class ArtifactBox: Sendable {
    let store = Mutex<[String: Data]>([:])
}
