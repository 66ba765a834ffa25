package import CHOMCore
package import CHOMProtocol
import Logging

extension SiteTaskExecutor {
    /// `TaskResult.failed_step` of a read whose log does not exist (yet).
    package static let missingLogStep = "missing_log"

    /// The last lines of the site's access or error log, from the agent's root-owned log
    /// directory (``SiteLogReader``): the task names a domain and a kind, never a path.
    package func readLogs(_ task: Chom_Agent_V1_ReadSiteLogsTask) -> ExecutionResult {
        let site: HostedSite
        do {
            site = try HostedSite(task.site)
        } catch {
            return ExecutionResult(outcome: .refused, message: error.message)
        }
        let kind: SiteLogReader.Kind
        switch task.kind {
        case .access: kind = .access
        case .error: kind = .error
        case .unspecified, .UNRECOGNIZED: return ExecutionResult(outcome: .refused, message: "the log kind must be access or error")
        }
        guard (1...SiteLogReader.maximumTail).contains(Int(task.tail)) else {
            return ExecutionResult(outcome: .refused, message: "tail must be between 1 and \(SiteLogReader.maximumTail) lines")
        }
        guard let logsDirectory else { return TaskDispatcher.noHosting }
        do {
            let maxBytes = task.maxBytes == 0 ? SiteLogReader.defaultMaxBytes : Int(task.maxBytes)
            let reader = SiteLogReader(logsDirectory: logsDirectory)
            var report = Chom_Agent_V1_TaskResult()
            let message: String
            if task.hasAfter {
                let read = try reader.follow(
                    domain: site.domain, kind: kind, after: task.after.position, limit: Int(task.tail), maxBytes: maxBytes)
                report.siteLogs.lines = read.lines
                report.siteLogs.truncated = read.more
                report.siteLogs.gap = read.gap
                report.siteLogs.position = Chom_Agent_V1_SiteLogPosition(read.position)
                message = "\(read.lines.count) new lines of the \(kind.rawValue) log of \(site.domain)"
            } else {
                let read = try reader.tail(domain: site.domain, kind: kind, lines: Int(task.tail), maxBytes: maxBytes)
                report.siteLogs.lines = read.lines
                report.siteLogs.truncated = read.truncated
                if let position = read.position { report.siteLogs.position = Chom_Agent_V1_SiteLogPosition(position) }
                message = "\(read.lines.count) lines of the \(kind.rawValue) log of \(site.domain)"
            }
            return ExecutionResult(outcome: .succeeded, message: message, report: report)
        } catch {
            logger.info("site log not read", metadata: [LogKey.error: "\(error)", LogKey.siteID: "\(site.siteID)"])
            var report = Chom_Agent_V1_TaskResult()
            // The coordinator answers 404 for this one: no request was logged yet.
            if error.code == .notFound { report.failedStep = Self.missingLogStep }
            return ExecutionResult(outcome: .failed, message: error.message, report: report)
        }
    }
}
