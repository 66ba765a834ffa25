import CHOMAPI
import CHOMCore
import CHOMProtocol
import CHOMStore
import Foundation
import Hummingbird

/// `GET /v1/sites/{site}/logs?kind=access|error&tail=N[&after=CURSOR]`: the last lines of a
/// site's nginx log, or with `after` the lines written since an earlier answer (`chom sites logs
/// --follow`). The logs are root's on the agent, outside every site tree, so the coordinator asks
/// the site's agent with a typed `read_site_logs` task (a domain, a kind and maybe a position,
/// never a path) and waits for its answer up to `dispatch.siteLogsTimeoutSeconds`. The lines
/// travel back in the task's result and are erased from the task row as this route takes them.
/// Every answer carries a ``SiteLogCursor`` (authenticated, bound to the site, kind and caller),
/// so any replica can go on from it. Every read is audited (logs hold visitors' addresses): a
/// tail read as `site.logs.read`, each follow read as `site.logs.follow`.
extension AdminAPI {
    func addSiteLogRoutes(_ routes: RouteTable) {
        routes.on(.get, "/v1/sites/:site/logs", .siteLogsRead) { request, context, caller in
            let query = request.uri.queryParameters
            let kind = try Self.logKind(query.get("kind"))
            let after = query.get("after")
            let tail = try Self.logTail(query.get("tail"), follow: after != nil)
            let target = try await taskTarget(context.parameters.get("site"), caller, minimum: .member)
            let cursor = try after.map { try self.followCursor($0, target: target, kind: kind, caller) }
            return try await readLogs(target, kind: kind, tail: tail, after: cursor, caller)
        }
    }

    /// The cursor `after` holds, checked for this site, kind and caller (400 otherwise).
    private func followCursor(
        _ text: String, target: SiteTaskTarget, kind: Chom_Agent_V1_SiteLogKind, _ caller: Caller
    ) throws -> SiteLogCursor {
        guard let cursor = SiteLogCursor.open(text, with: identity.secretBox.keyRing) else {
            throw CHOMError(
                .invalidInput,
                "after is not a cursor this coordinator issued (or its key was retired): read again without after")
        }
        if let refusal = SiteLogFollowPolicy.refusal(
            cursor, site: target.site.id, kind: Self.kindName(kind), actor: caller.actor)
        {
            throw CHOMError(.invalidInput, refusal)
        }
        return cursor
    }

    private func readLogs(
        _ target: SiteTaskTarget, kind: Chom_Agent_V1_SiteLogKind, tail: Int, after: SiteLogCursor?, _ caller: Caller
    ) async throws -> Response {
        let kindName = Self.kindName(kind)
        guard let agent = try await store.agents.get(target.agent), agent.state == .online else {
            throw CHOMError(.unavailable, "the agent of \(target.site.domain) is offline; its logs cannot be read now")
        }
        var config = try siteTasks.siteConfig(target.site)
        // Reading a log needs the site's name, not its TLS key: no secret travels with this task.
        config.clearTls()
        var task = try siteTasks.task(.readSiteLogs, site: target.site, agent: target.agent) { message in
            var read = Chom_Agent_V1_ReadSiteLogsTask()
            read.site = config
            read.kind = kind
            read.tail = UInt32(tail)
            if let after {
                // A position from another agent (the site moved) names no file here: device and
                // inode 0 match nothing, so the agent reads its log from the start, with a gap.
                read.after = Chom_Agent_V1_SiteLogPosition(
                    after.agent == target.agent ? after.position : SiteLogPosition(device: 0, inode: 0, offset: 0))
            }
            message.readSiteLogs = read
        }
        // Nothing to retry after the caller gave up.
        task.maxAttempts = 1
        var details = ["kind": kindName, "tail": "\(tail)", "task": task.id.description]
        if let position = after?.position { details["after"] = position.description }
        try await write(caller) { transaction in
            // Moved since it was read: the old agent no longer holds the site's logs.
            try await target.scoped.requireUnchanged(target.site, in: transaction)
            try await target.scoped.enqueue(task, for: target.site, now: caller.now, in: transaction)
            try await transaction.record(caller.audit(
                after == nil ? "site.logs.read" : "site.logs.follow", target: "site:\(target.site.id)",
                organization: target.organization, tenant: target.site.tenantID, details: details))
        }
        await connections.wake(target.agent)
        let logs = try await answer(task, target, now: caller.now)
        if after != nil, logs.position == nil {
            // An agent that ignores `after` answers a tail: not new lines.
            throw HTTPError(.badGateway, message: "the agent of \(target.site.domain) cannot follow a log; upgrade it")
        }
        let cursor = logs.position.map { position in
            SiteLogCursor(site: target.site.id, kind: kindName, actor: caller.actor, agent: target.agent, position: position)
                .sealed(with: identity.secretBox.keyRing)
        }
        return try StrictJSON.response(
            SiteLogsResponse(kind: kindName, lines: logs.lines, truncated: logs.truncated, cursor: cursor, gap: logs.gap))
    }

    /// The lines of `task` once the agent answered, or the error the caller gets.
    private func answer(_ task: NewTask, _ target: SiteTaskTarget, now: Date) async throws -> TaskReport.SiteLogs {
        var answered = try await waitForTask(task.id, scoped: target.scoped)
        if answered == nil {
            // Nobody waits for the lines any more: the task is failed now, so that a late answer
            // finds it final and its lines (visitors' addresses) are never stored. When the answer
            // won that race, it is used after all.
            let gaveUp = try await store.tasks.finish(
                task.id, agent: target.agent, report: .failure(Self.gaveUp),
                now: now, audit: TaskAudit.outcome(agent: target.agent, now: now, actor: "system"))
            if gaveUp == nil { answered = try await target.scoped.task(task.id) }
        }
        guard let finished = answered, finished.state.isFinal else {
            throw HTTPError(
                .gatewayTimeout,
                message: "the agent of \(target.site.domain) did not answer within \(configuration.dispatch.siteLogsTimeoutSeconds) s")
        }
        guard finished.state == .succeeded else {
            let reason = finished.resultMessage ?? "the agent could not read the log"
            if finished.failedStep == "missing_log" { throw CHOMError(.notFound, reason) }
            throw HTTPError(.badGateway, message: reason)
        }
        guard let logs = try await target.scoped.takeSiteLogs(task.id, site: target.site) else {
            throw HTTPError(.badGateway, message: "the agent's answer held no log lines")
        }
        return logs
    }

    static func kindName(_ kind: Chom_Agent_V1_SiteLogKind) -> String { kind == .error ? "error" : "access" }

    static let gaveUp = "no answer in time; the reader stopped waiting"

    /// Polls the task row until it is final, or nil at the deadline.
    private func waitForTask(_ id: TaskID, scoped: ScopedSiteRepository) async throws -> TaskRecord? {
        let clock = ContinuousClock()
        let deadline = clock.now + .milliseconds(Int64(configuration.dispatch.siteLogsTimeoutSeconds * 1000))
        var pause = Duration.milliseconds(20)
        while true {
            if let record = try await scoped.task(id), record.state.isFinal { return record }
            guard clock.now < deadline else { return nil }
            try await Task.sleep(for: min(pause, deadline - clock.now))
            pause = min(pause * 2, .milliseconds(250))
        }
    }

    static func logKind(_ text: String?) throws(CHOMError) -> Chom_Agent_V1_SiteLogKind {
        switch text {
        case nil, "access": .access
        case "error": .error
        default: throw CHOMError(.invalidInput, "kind must be access or error")
        }
    }

    static func logTail(_ text: String?, follow: Bool = false) throws(CHOMError) -> Int {
        guard let text else { return follow ? SiteLogsResponse.followLimit : SiteLogsResponse.defaultTail }
        guard let tail = Int(text), SiteLogsResponse.tailRange.contains(tail) else {
            throw CHOMError(
                .invalidInput,
                "tail must be a number of lines between \(SiteLogsResponse.tailRange.lowerBound) and \(SiteLogsResponse.tailRange.upperBound)")
        }
        return tail
    }
}
