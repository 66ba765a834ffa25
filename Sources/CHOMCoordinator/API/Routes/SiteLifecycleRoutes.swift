import CHOMAPI
import CHOMCore
import CHOMProtocol
import CHOMStore
import Foundation
import Hummingbird

/// Suspend, resume and remove: admin actions, through the site's lifecycle (`SiteLifecycle`).
/// Suspend and resume add or lift the `manual` reason at once; the site is resumed only when no
/// other reason (billing, fencing) holds it. The site's `suspended` flag (what the agent applied)
/// and its `removed` state change when the agent reports the task done (`TaskResultRecorder`).
extension AdminAPI {
    func addSiteLifecycleRoutes(_ routes: RouteTable) {
        routes.on(.post, "/v1/sites/:site/suspend", .siteSuspend) { _, context, caller in
            try await suspend(context.parameters.get("site"), suspended: true, caller)
        }
        routes.on(.post, "/v1/sites/:site/resume", .siteResume) { _, context, caller in
            try await suspend(context.parameters.get("site"), suspended: false, caller)
        }
        routes.on(.delete, "/v1/sites/:site", .siteRemove) { request, context, caller in
            let force: Bool
            switch request.uri.queryParameters.get("force") {
            case nil, "false": force = false
            case "true": force = true
            default: throw CHOMError(.invalidInput, "force must be true or false")
            }
            let target = try await taskTarget(context.parameters.get("site"), caller, minimum: .admin)
            return try await remove(target, force: force, caller)
        }
    }

    private func suspend(_ parameter: String?, suspended asked: Bool, _ caller: Caller) async throws -> Response {
        let target = try await taskTarget(parameter, caller, minimum: .admin)
        let event: SiteEvent = asked ? .suspendRequested(.manual) : .resumeRequested(.manual)
        // The task sends the suspension the site has after the event (still suspended when another
        // reason holds it); the transaction checks that the site as stored asks for the same.
        let lifecycle = try preview(event, of: target.site)
        let suspended = lifecycle.isSuspended
        var site = target.site
        site.suspensionReasons = lifecycle.suspension
        let config = try siteTasks.siteConfig(site)
        let task = try siteTasks.task(.suspend, site: target.site, agent: target.agent, suspended: suspended) { message in
            var suspend = Chom_Agent_V1_SuspendSiteTask()
            suspend.site = config
            suspend.suspended = suspended
            message.suspend = suspend
        }
        return try await enqueue(
            task, for: target, caller, action: asked ? "site.suspend" : "site.resume", event: event,
            details: ["reason": SuspensionReason.manual.rawValue, "suspended": "\(suspended)"])
    }

    /// Removes the site from its agent, after a backup unless `force`.
    private func remove(_ target: SiteTaskTarget, force: Bool, _ caller: Caller) async throws -> Response {
        let site = target.site
        let taskID = TaskID()
        guard !force else {
            let task = try siteTasks.task(id: taskID, .remove, site: site, agent: target.agent) { message in
                var remove = Chom_Agent_V1_RemoveSiteTask()
                remove.site = try siteTasks.siteConfig(site)
                remove.force = true
                message.remove = remove
            }
            return try await enqueue(
                task, for: target, caller, action: "site.remove", event: .removeRequested, details: ["force": "true"])
        }
        let backupID = BackupID()
        let backups = store.backups(in: try caller.signedIn.scope(atLeast: .admin))
        _ = try preview(.removeRequested, of: site)
        try await write(caller) { transaction in
            // Built from `site`: refused if it moved, was reconfigured or (un)suspended since.
            try await target.scoped.requireUnchanged(site, in: transaction)
            let actions = try await target.scoped.transition(site, .removeRequested, now: caller.now, in: transaction)
            let key = try await backups.tenantKey(site.tenantID, in: transaction) { siteTasks.makeTenantKey(site.tenantID) }
            let backup = try siteTasks.backup(site, id: backupID, key: key)
            let task = try siteTasks.task(id: taskID, .remove, site: site, agent: target.agent, backupID: backupID) { message in
                var remove = Chom_Agent_V1_RemoveSiteTask()
                remove.site = backup.site
                remove.backup = backup
                message.remove = remove
            }
            try await backups.start(
                BackupRecord(
                    id: backupID, siteID: site.id, tenantID: site.tenantID, agentID: target.agent, taskID: taskID,
                    state: .queued, encrypted: true, createdAt: caller.now),
                task: task, now: caller.now, in: transaction)
            try await transaction.record(caller.audit(
                actions.auditAction ?? "site.remove", target: "site:\(site.id)", organization: target.organization,
                tenant: site.tenantID,
                details: ["force": "false", "backup": backupID.description, "task": taskID.description]))
        }
        return try await queued(taskID, agent: target.agent, scoped: target.scoped)
    }
}
