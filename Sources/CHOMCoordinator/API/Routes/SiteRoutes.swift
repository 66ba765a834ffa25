import CHOMAPI
import CHOMCore
import CHOMScheduler
import CHOMStore
import Foundation
import Hummingbird

/// Tenant data: sites, releases, deploys, tasks. Every lookup goes through
/// `store.sites(in:)` with the caller's scope, so a foreign id answers 404 like a missing one.
extension AdminAPI {
    func addSiteRoutes(_ routes: RouteTable) {
        routes.on(.get, "/v1/sites", .sitesList) { request, _, caller in
            let page = try Page(request)
            let sites = try await store.sites(in: try caller.signedIn.scope(atLeast: .viewer))
                .list(after: page.after, limit: page.limit)
            return try page.response(sites, key: ScopedSiteRepository.listKey, map: \.api)
        }
        routes.on(.get, "/v1/tenants/:tenant/sites", .tenantSitesList) { request, context, caller in
            let page = try Page(request)
            let tenant = try await visibleTenant(context.parameters.get("tenant"), caller, minimum: .viewer)
            let sites = try await store.sites(in: try caller.signedIn.scope(atLeast: .viewer))
                .list(tenant: tenant.id, after: page.after, limit: page.limit)
            return try page.response(sites, key: ScopedSiteRepository.listKey, map: \.api)
        }
        routes.on(.post, "/v1/tenants/:tenant/sites", .siteCreate) { request, context, caller in
            let tenant = try await visibleTenant(context.parameters.get("tenant"), caller, minimum: .member)
            let body = try await StrictJSON.decode(CreateSiteRequest.self, allowed: CreateSiteRequest.fields, from: request)
            let domain = body.domain.lowercased()
            guard DomainName.isValid(domain) else { throw CHOMError(.invalidInput, "'\(body.domain)' is not a valid domain") }
            let scoped = store.sites(in: try caller.signedIn.scope(atLeast: .member))
            let site = try await claiming(caller) { try await write(caller) { transaction in
                try await store.fleet.lockPlacement(in: transaction)
                try await quotas.checkNewSite(organization: tenant.organizationID, now: caller.now, in: transaction)
                let id = SiteID()
                let agent: AgentID
                do {
                    agent = try fleetPlacement.place(site: id, tenant: tenant.id, kind: .static, in: try await fleetPlacement.view())
                } catch let refused as PlacementRefused {
                    throw refused.shown(to: try caller.signedIn)
                }
                let site = try await scoped.create(
                    id: id, tenant: tenant.id, domain: domain, agent: agent, now: caller.now, in: transaction)
                try await transaction.record(caller.audit(
                    "site.create", target: "site:\(site.id)", organization: tenant.organizationID, tenant: tenant.id,
                    details: ["domain": domain, "agent": site.agentID?.description ?? ""]))
                return site
            } }
            return try StrictJSON.response(site.api, status: .created)
        }
        routes.on(.get, "/v1/sites/:site", .siteRead) { _, context, caller in
            try StrictJSON.response(try await site(context.parameters.get("site"), caller, minimum: .viewer).api)
        }
        routes.on(.post, "/v1/sites/:site/releases", .releaseUpload) { request, context, caller in
            let site = try await site(context.parameters.get("site"), caller, minimum: .member)
            let organization = try await store.organizations.tenant(site.tenantID)?.organizationID
            let release = try await write(caller) { transaction in
                let release = try await ReleaseUpload(store: store, maxBytes: configuration.api.maxBodyBytes)
                    .receive(request, for: site, now: caller.now, in: transaction)
                try await transaction.record(caller.audit(
                    "release.upload", target: "release:\(release.id)", organization: organization, tenant: site.tenantID,
                    details: ["site": site.id.description, "sha256": release.sha256, "size": "\(release.sizeBytes)"]))
                return release
            }
            return try StrictJSON.response(release.api, status: .created)
        }
        routes.on(.get, "/v1/tasks/:id", .taskRead) { _, context, caller in
            let id = try parseID(TaskID.self, context.parameters.get("id"), what: "task")
            guard let task = try await store.sites(in: try caller.signedIn.scope(atLeast: .viewer)).task(id) else {
                throw CHOMError(.notFound, "no task \(id)")
            }
            return try StrictJSON.response(task.api)
        }
    }

    /// A site by id or domain, seen through the caller's read scope, then held to `minimum`
    /// (404 when invisible, 403 when visible but the role is too weak).
    func site(_ parameter: String?, _ caller: Caller, minimum: OrganizationRole) async throws -> SiteRecord {
        guard let parameter, !parameter.isEmpty else { throw CHOMError(.invalidInput, "missing site") }
        let principal = try caller.signedIn
        let scoped = store.sites(in: principal.scope(atLeast: .viewer))
        var found: SiteRecord?
        if let id = SiteID(parameter) { found = try await scoped.get(id) }
        if found == nil { found = try await scoped.get(domain: parameter.lowercased()) }
        guard let site = found else { throw CHOMError(.notFound, "no site \(parameter)") }
        try principal.require(minimum, inTenant: site.tenantID)
        return site
    }

    /// A tenant the caller reaches (404 otherwise), held to `minimum` (403).
    func visibleTenant(_ parameter: String?, _ caller: Caller, minimum: OrganizationRole) async throws -> TenantRecord {
        let id = try parseID(TenantID.self, parameter, what: "tenant")
        let principal = try caller.signedIn
        guard principal.isOperator || principal.grants.contains(where: { $0.tenantID == id }),
            let tenant = try await store.organizations.tenant(id)
        else { throw CHOMError(.notFound, "no tenant \(id)") }
        try principal.require(minimum, inTenant: id)
        return tenant
    }
}
