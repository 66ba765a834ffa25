package import CHOMProtocol

/// The result of running one task, before it becomes a `TaskResult`.
package struct ExecutionResult: Sendable, Equatable {
    package enum Outcome: String, Sendable {
        case succeeded
        case failed
        /// The task is well-formed as an envelope but its content is not acceptable.
        case refused
    }

    package var outcome: Outcome
    package var message: String
    package var releasePath: String
    /// What the task reports beyond its outcome: the live release, a backup's report, deleted
    /// backups, a deploy's failed step. Its task id, outcome, message and times are ignored.
    package var report: Chom_Agent_V1_TaskResult

    package init(
        outcome: Outcome, message: String, releasePath: String = "", report: Chom_Agent_V1_TaskResult = .init()
    ) {
        self.outcome = outcome
        self.message = message
        self.releasePath = releasePath
        self.report = report
    }
}

/// Reports a step of a running task (`TaskProgress`): the step name and a short log tail.
package typealias ProgressReporter = @Sendable (_ step: String, _ logTail: String) async -> Void

/// Runs an opened task. The agent's implementation dispatches by kind (`TaskDispatcher`);
/// tests substitute their own to count executions.
package protocol TaskExecutor: Sendable {
    func execute(_ task: Chom_Agent_V1_Task, progress: ProgressReporter) async -> ExecutionResult
}

extension Chom_Agent_V1_TaskKind {
    /// The `TaskKindName` raw value used in the journal and in metric labels.
    package var labelValue: String {
        switch self {
        case .deploy: "deploy"
        case .backup: "backup"
        case .restore: "restore"
        case .remove: "remove"
        case .rollback: "rollback"
        case .configure: "configure"
        case .suspend: "suspend"
        case .verifyBackup: "verify_backup"
        case .pruneBackups: "prune_backups"
        case .readSiteLogs: "read_site_logs"
        case .ping: "ping"
        case .unspecified, .UNRECOGNIZED: "unknown"
        }
    }
}
