import CHOMAPI
import CHOMCore
import CHOMProtocol
import CHOMStore
import Foundation
import Hummingbird

/// Deploys (an uploaded release or a git checkout) and rollbacks. Both send the site's whole
/// configuration with the task.
extension AdminAPI {
    func addSiteDeployRoutes(_ routes: RouteTable) {
        routes.on(.post, "/v1/sites/:site/deploy", .siteDeploy) { request, context, caller in
            try await deploy(request, siteParameter: context.parameters.get("site"), caller)
        }
        routes.on(.post, "/v1/sites/:site/rollback", .siteRollback) { request, context, caller in
            let target = try await taskTarget(context.parameters.get("site"), caller, minimum: .member)
            let body = try await StrictJSON.decode(
                RollbackRequest.self, allowed: RollbackRequest.fields, from: request, optional: true)
            var release: ReleaseID?
            if let text = body.releaseId {
                guard let id = ReleaseID(text), try await target.scoped.hasRelease(id, site: target.site) else {
                    throw CHOMError(.notFound, "no release \(text) for site \(target.site.domain)")
                }
                release = id
            }
            let task = try siteTasks.task(.rollback, site: target.site, agent: target.agent) { message in
                var rollback = Chom_Agent_V1_RollbackTask()
                rollback.site = try siteTasks.siteConfig(target.site)
                rollback.releaseID = release?.description ?? ""
                message.rollback = rollback
            }
            return try await enqueue(
                task, for: target, caller, action: "site.rollback", event: .rollbackRequested,
                details: ["release": release?.description ?? "previous"])
        }
    }

    private func deploy(_ request: Request, siteParameter: String?, _ caller: Caller) async throws -> Response {
        let target = try await taskTarget(siteParameter, caller, minimum: .member)
        let site = target.site
        let body = try await StrictJSON.decode(DeployRequest.self, allowed: DeployRequest.fields, from: request)
        let keep = body.keepReleases ?? site.spec.keepReleases ?? 5
        guard (1...50).contains(keep) else { throw CHOMError(.invalidInput, "keepReleases must be between 1 and 50") }
        var deploy = Chom_Agent_V1_DeployTask()
        deploy.siteID = site.id.description
        deploy.domain = site.domain
        deploy.keepReleases = UInt32(keep)
        deploy.site = try siteTasks.siteConfig(site)
        var details: [String: String]
        var uploaded: ReleaseID?
        switch (body.releaseId, body.git) {
        case (let text?, nil):
            let releaseID = try parseID(ReleaseID.self, text, what: "release")
            guard let release = try await target.scoped.release(releaseID), release.siteID == site.id else {
                throw CHOMError(.notFound, "no release \(releaseID) for site \(site.domain)")
            }
            deploy.releaseID = release.id.description
            deploy.artifactSha256 = release.sha256
            deploy.artifactSize = UInt64(release.sizeBytes)
            deploy.artifactFormat = release.format == "tar.gz" ? .tarGzip : .tarZstd
            uploaded = release.id
            details = ["release": release.id.description]
        case (nil, let git?):
            let source = try GitSource(url: git.url, ref: git.ref)
            deploy.releaseID = ReleaseID().description
            deploy.git.url = source.url
            deploy.git.ref = source.ref
            details = ["release": deploy.releaseID, "git_url": source.url, "git_ref": source.ref]
        default:
            throw CHOMError(.invalidInput, "give either releaseId or git, not both and not neither")
        }
        let message = deploy
        let task = try siteTasks.task(.deploy, site: site, agent: target.agent, releaseID: uploaded) { $0.deploy = message }
        return try await enqueue(task, for: target, caller, action: "site.deploy", event: .deployRequested, details: details)
    }
}
