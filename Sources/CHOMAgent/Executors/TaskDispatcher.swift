package import CHOMCore
package import CHOMProtocol
import Foundation
package import Logging

/// Dispatches each task kind to its executor. There is no "run this command" task.
package struct TaskDispatcher: TaskExecutor {
    package var deploy: DeployExecutor
    /// nil on an agent without hosting: those tasks are refused.
    package var sites: SiteTaskExecutor?
    package var backups: BackupExecutor
    /// Remembers what each succeeded site task applied, for the inventory (nil: nothing recorded).
    package var siteRecords: SiteRecordStore?
    /// What a ping answers with.
    package var agentVersion = "unknown"

    package init(deploy: DeployExecutor, sites: SiteTaskExecutor?, backups: BackupExecutor) {
        self.deploy = deploy
        self.sites = sites
        self.backups = backups
    }

    /// The agent's executors over one configuration and one hosting.
    package init(
        configuration: AgentConfiguration, artifacts: any ArtifactSource, storage: (any StoragePresigner)? = nil,
        hosting: (any SiteHosting)?, metrics: AgentMetrics?, clock: any WallClock, logger: Logger
    ) {
        agentVersion = configuration.agentVersion
        var git = GitCheckout()
        if let cgroups = configuration.hosting?.cgroups { git.cgroups = cgroups }
        deploy = DeployExecutor(
            sitesRoot: configuration.sitesRoot, defaultKeepReleases: configuration.keepReleases,
            limits: configuration.deploy, artifacts: artifacts, hosting: hosting, git: git, metrics: metrics,
            clock: clock, logger: logger)
        sites = hosting.map {
            SiteTaskExecutor(
                sitesRoot: configuration.sitesRoot, hosting: $0, metrics: metrics, clock: clock, logger: logger,
                logsDirectory: configuration.hosting?.logsDirectory)
        }
        backups = BackupExecutor(
            sitesRoot: configuration.sitesRoot, workDirectory: configuration.workDirectory, hosting: hosting,
            metrics: metrics, clock: clock, logger: logger)
        backups.storage = storage
    }

    package func execute(_ task: Chom_Agent_V1_Task, progress: ProgressReporter) async -> ExecutionResult {
        let result = await run(task, progress: progress)
        if result.outcome == .succeeded, let siteRecords {
            do {
                try siteRecords.update(after: task)
            } catch {
                // The task did its work; the inventory then reports an older version, and the
                // coordinator configures the site again.
                deploy.logger.warning("site record not written", metadata: [LogKey.error: "\(error)"])
            }
        }
        return result
    }

    private func run(_ task: Chom_Agent_V1_Task, progress: ProgressReporter) async -> ExecutionResult {
        // Object storage is reached through URLs presigned for this task's object only.
        var backups = self.backups
        backups.taskID = task.taskID
        switch task.kind {
        case .deploy(let deployTask):
            return await deploy.execute(deployTask, progress: progress)
        case .backup(let backupTask):
            return await backups.backup(backupTask, progress: progress)
        case .restore(let restoreTask):
            return await backups.restore(restoreTask, progress: progress)
        case .verifyBackup(let verifyTask):
            return await backups.verify(verifyTask, progress: progress)
        case .pruneBackups(let pruneTask):
            return await backups.prune(pruneTask, progress: progress)
        case .remove(let removeTask):
            return await backups.remove(removeTask, progress: progress)
        case .configure(let configureTask):
            guard let sites else { return Self.noHosting }
            return await sites.configure(configureTask, progress: progress)
        case .suspend(let suspendTask):
            guard let sites else { return Self.noHosting }
            return await sites.suspend(suspendTask, progress: progress)
        case .rollback(let rollbackTask):
            guard let sites else { return Self.noHosting }
            return await sites.rollback(rollbackTask, progress: progress)
        case .readSiteLogs(let readTask):
            guard let sites else { return Self.noHosting }
            return sites.readLogs(readTask)
        case .ping:
            return ExecutionResult(outcome: .succeeded, message: "pong from chom-agent \(agentVersion)")
        case nil:
            return ExecutionResult(outcome: .refused, message: "task kind not implemented by this agent")
        }
    }

    static let noHosting = ExecutionResult(
        outcome: .refused, message: "this agent does not host sites (started without nginx hosting)")
}
