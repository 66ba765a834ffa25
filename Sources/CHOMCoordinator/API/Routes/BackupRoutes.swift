import CHOMAPI
import CHOMCore
import CHOMProtocol
import CHOMStore
import Foundation
import Hummingbird

/// A site's backups: take one, list them, restore one (onto the site's agent, or one an operator
/// names), verify one. Encrypted backups use the tenant's key, made on first use.
extension AdminAPI {
    func addBackupRoutes(_ routes: RouteTable) {
        routes.on(.get, "/v1/sites/:site/backups", .backupsList) { request, context, caller in
            let page = try Page(request)
            let site = try await site(context.parameters.get("site"), caller, minimum: .viewer)
            let backups = try await store.backups(in: try caller.signedIn.scope(atLeast: .viewer))
                .list(site: site.id, after: try Self.backupCursor(page.after), limit: page.limit)
            return try page.response(backups, key: Self.backupCursorKey, map: \.api)
        }
        routes.on(.post, "/v1/sites/:site/backups", .backupCreate) { request, context, caller in
            let target = try await taskTarget(context.parameters.get("site"), caller, minimum: .member)
            let body = try await StrictJSON.decode(
                CreateBackupRequest.self, allowed: CreateBackupRequest.fields, from: request, optional: true)
            let backup = try await BackupStarter(store: store, tasks: siteTasks).start(
                target, encrypt: body.encrypt ?? true, audit: caller.audit(
                    "backup.create", target: "site:\(target.site.id)", organization: target.organization,
                    tenant: target.site.tenantID)
            ) { transaction in
                if let organization = target.organization {
                    try await quotas.check(.storage, organization: organization, now: caller.now, in: transaction)
                }
                return true
            }
            await connections.wake(target.agent)
            guard let backup else { throw CHOMError(.internal, "the backup was not started") }
            return try StrictJSON.response(backup.api, status: .accepted)
        }
        routes.on(.post, "/v1/sites/:site/backups/:backup/restore", .backupRestore) { request, context, caller in
            let target = try await taskTarget(context.parameters.get("site"), caller, minimum: .admin, allowRemoved: true)
            let backup = try await usableBackup(context.parameters.get("backup"), of: target, caller)
            guard backup.purpose == .regular else {
                throw CHOMError(
                    .conflict,
                    "backup \(backup.id) is the stale copy an agent held of a site placed elsewhere: it is never restored")
            }
            let body = try await StrictJSON.decode(
                RestoreBackupRequest.self, allowed: RestoreBackupRequest.fields, from: request, optional: true)
            let agent = try await restoreAgent(body.agentId, target: target, caller)
            let key = try await backupKey(backup, caller)
            let release = ReleaseID()
            // The restored site keeps its suspension reasons: a restore lifts no suspension.
            let site = target.site
            let task = try siteTasks.restore(site, onto: agent, backup: backup, key: key, release: release)
            return try await enqueue(
                task, for: target, caller, action: "backup.restore", event: .restoreRequested(onto: agent),
                details: ["backup": backup.id.description, "agent": agent.description, "release": release.description]
            ) { transaction in
                try await target.scoped.claimForRestore(target.site, onto: agent, in: transaction)
            }
        }
        routes.on(.post, "/v1/sites/:site/backups/:backup/verify", .backupVerify) { _, context, caller in
            let target = try await taskTarget(context.parameters.get("site"), caller, minimum: .member)
            let backup = try await usableBackup(context.parameters.get("backup"), of: target, caller)
            let key = try await backupKey(backup, caller)
            let task = try siteTasks.task(.verifyBackup, site: target.site, agent: target.agent, backupID: backup.id) {
                message in
                var verify = Chom_Agent_V1_VerifyBackupTask()
                verify.site = try siteTasks.siteConfig(target.site)
                verify.backupID = backup.id.description
                verify.source = siteTasks.storage.destination(objectKey: backup.objectKey ?? "")
                verify.objectKey = backup.objectKey ?? ""
                verify.archiveSha256 = backup.archiveSHA256 ?? ""
                verify.encryptionKey = key.bytes
                verify.encryptionKeyID = key.id
                message.verifyBackup = verify
            }
            return try await enqueue(task, for: target, caller, action: "backup.verify", details: ["backup": backup.id.description])
        }
        addBackupScheduleRoutes(routes)
    }

    /// A backup of the target site (404 otherwise, like a missing one) that can be read (409 otherwise).
    private func usableBackup(_ parameter: String?, of target: SiteTaskTarget, _ caller: Caller) async throws
        -> BackupRecord
    {
        let id = try parseID(BackupID.self, parameter, what: "backup")
        guard let backup = try await store.backups(in: target.scoped.scope).get(id, site: target.site.id) else {
            throw CHOMError(.notFound, "no backup \(id)")
        }
        guard backup.isUsable else {
            let why = backup.deletedAt != nil ? "deleted" : backup.state.rawValue
            throw CHOMError(.conflict, "backup \(id) is \(why): only a stored, succeeded backup can be read")
        }
        return backup
    }

    /// The tenant key bytes for an encrypted backup, else empty.
    /// The tenant's key and its id (the archive names the id it was encrypted under).
    private func backupKey(_ backup: BackupRecord, _ caller: Caller) async throws -> (bytes: Data, id: String) {
        guard backup.encrypted else { return (Data(), "") }
        guard let key = try await store.backups(in: try caller.signedIn.scope(atLeast: .viewer)).tenantKey(backup.tenantID)
        else { throw CHOMError(.integrity, "the tenant's backup key is missing") }
        return (try siteTasks.openTenantKey(key), key.keyID)
    }

    /// The site's agent, or the one named (operators only; it must be enrolled and not deleted).
    private func restoreAgent(_ text: String?, target: SiteTaskTarget, _ caller: Caller) async throws -> AgentID {
        guard let text else { return target.agent }
        guard let id = AgentID(text), let agent = try await store.agents.get(id), agent.state != .deleted else {
            throw CHOMError(.invalidInput, "agentId names no agent")
        }
        guard try id == target.agent || caller.signedIn.isOperator else {
            throw CHOMError(.forbidden, "restoring onto another agent is for platform operators")
        }
        return id
    }

    /// Backups are listed newest first; the cursor is "<created µs>/<id>" of the last one.
    static func backupCursorKey(_ backup: BackupRecord) -> String {
        "\(Int64((backup.createdAt.timeIntervalSince1970 * 1_000_000).rounded()))/\(backup.id)"
    }

    static func backupCursor(_ key: String?) throws -> (Date, UUID)? {
        guard let key else { return nil }
        let parts = key.split(separator: "/")
        guard parts.count == 2, let micros = Int64(parts[0]), let id = UUID(uuidString: String(parts[1])) else {
            throw CHOMError(.invalidInput, "the cursor is not one this server issued")
        }
        return (Date(timeIntervalSince1970: Double(micros) / 1_000_000), id)
    }
}
