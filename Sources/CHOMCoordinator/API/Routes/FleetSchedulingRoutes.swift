import CHOMAPI
import CHOMCore
import CHOMProtocol
import CHOMScheduler
import CHOMStore
import Foundation
import Hummingbird

/// Platform operators' scheduling routes: cordon, uncordon, drain and label agents, move a site,
/// follow migrations, plan or apply a rebalance, see an agent's failover plan. Parse → policy (the scheduler, `MigrationStarter`)
/// → store → respond; the leader's `MigrationRunner` does the moving.
extension AdminAPI {
    func addFleetSchedulingRoutes(_ routes: RouteTable) {
        for (path, action, scheduling) in [
            ("cordon", APIAction.agentCordon, SchedulingState.cordoned),
            ("uncordon", .agentUncordon, .schedulable),
            ("drain", .agentDrain, .draining),
        ] {
            routes.on(.post, "/v1/agents/:id/\(path)", action) { _, context, caller in
                let id = try parseID(AgentID.self, context.parameters.get("id"), what: "agent")
                try await write(caller) { transaction in
                    guard let previous = try await store.fleet.setScheduling(
                        id, to: scheduling.rawValue, in: transaction)
                    else { throw CHOMError(.notFound, "no agent \(id)") }
                    try await transaction.record(caller.audit(
                        "agent.\(path)", target: "agent:\(id)",
                        details: ["from": previous, "to": scheduling.rawValue]))
                }
                guard let agent = try await store.agents.get(id) else { throw CHOMError(.notFound, "no agent \(id)") }
                return try StrictJSON.response(agent.api)
            }
        }
        routes.on(.put, "/v1/agents/:id/labels", .agentLabelsUpdate) { request, context, caller in
            let id = try parseID(AgentID.self, context.parameters.get("id"), what: "agent")
            let body = try await StrictJSON.decode(AgentLabelsRequest.self, allowed: AgentLabelsRequest.fields, from: request)
            try AgentLabels.validate(body.labels)
            try await write(caller) { transaction in
                guard try await store.fleet.setLabels(id, body.labels, in: transaction) else {
                    throw CHOMError(.notFound, "no agent \(id)")
                }
                try await transaction.record(caller.audit(
                    "agent.labels", target: "agent:\(id)",
                    details: ["labels": body.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
                        .joined(separator: ",")]))
            }
            guard let agent = try await store.agents.get(id) else { throw CHOMError(.notFound, "no agent \(id)") }
            return try StrictJSON.response(agent.api)
        }
        routes.on(.get, "/v1/agents/:id/failover-plan", .agentFailoverPlan) { _, context, _ in
            let id = try parseID(AgentID.self, context.parameters.get("id"), what: "agent")
            guard let agent = try await store.agents.get(id), agent.state != .deleted else {
                throw CHOMError(.notFound, "no agent \(id)")
            }
            let plan = try await FailoverPlanner(store: store, configuration: configuration, clock: clock).plan(for: agent)
            return try StrictJSON.response(plan)
        }
        routes.on(.post, "/v1/sites/:site/move", .siteMove) { request, context, caller in
            let site = try await site(context.parameters.get("site"), caller, minimum: .viewer)
            let body = try await StrictJSON.decode(
                MoveSiteRequest.self, allowed: MoveSiteRequest.fields, from: request, optional: true)
            let target = try body.agentId.map { text -> AgentID in
                guard let id = AgentID(text) else { throw CHOMError(.invalidInput, "agentId is not an agent id") }
                return id
            }
            let organization = try await store.organizations.tenant(site.tenantID)?.organizationID
            let migration = try await write(caller) { transaction in
                try await store.fleet.lockPlacement(in: transaction)
                return try await migrationStarter.start(
                    site, to: target, reason: "manual", requestedBy: caller.actor,
                    audit: caller.audit(
                        "site.migration.start", target: "site:\(site.id)", organization: organization,
                        tenant: site.tenantID),
                    view: try await fleetPlacement.view(), in: transaction)
            }
            return try StrictJSON.response(migration.api(domain: site.domain), status: .accepted)
        }
        routes.on(.put, "/v1/sites/:site/requests", .siteRequestsUpdate) { request, context, caller in
            let site = try await site(context.parameters.get("site"), caller, minimum: .viewer)
            let body = try await StrictJSON.decode(
                SiteRequestsRequest.self, allowed: SiteRequestsRequest.fields, from: request)
            let override = try SiteRequestsPolicy.override(body)
            let json = try override.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) }
            let organization = try await store.organizations.tenant(site.tenantID)?.organizationID
            try await write(caller) { transaction in
                try await store.fleet.setRequests(site.id, json: json, in: transaction)
                try await transaction.record(caller.audit(
                    "site.requests", target: "site:\(site.id)", organization: organization, tenant: site.tenantID,
                    details: SiteRequestsPolicy.auditDetails(override)))
            }
            let requests = configuration.fleet.siteRequests.requests(for: site.spec.kind, override: override)
            return try StrictJSON.response(SiteRequestsResponse(
                siteId: site.id.description, kind: site.spec.kind.rawValue, cpuMillis: requests.cpuMillis,
                memoryBytes: requests.memoryBytes, diskBytes: requests.diskBytes,
                overrides: SiteRequestsRequest(
                    cpuMillis: override?.cpuMillis, memoryBytes: override?.memoryBytes, diskBytes: override?.diskBytes)))
        }
        routes.on(.put, "/v1/sites/:site/failover", .siteFailoverUpdate) { request, context, caller in
            let body = try await StrictJSON.decode(
                SiteFailoverRequest.self, allowed: SiteFailoverRequest.fields, from: request)
            let site = try await site(context.parameters.get("site"), caller, minimum: .viewer)
            return try StrictJSON.response(try await setFailover(site, enabled: body.enabled, caller))
        }
        routes.on(.get, "/v1/migrations", .migrationsList) { request, _, _ in
            let site = try request.uri.queryParameters.get("site").map { text -> SiteID in
                guard let id = SiteID(String(text)) else { throw CHOMError(.invalidInput, "site is not a site id") }
                return id
            }
            let open = request.uri.queryParameters.get("open").map { $0 == "true" } ?? false
            let migrations = try await store.migrations.list(site: site, openOnly: open)
            var domains: [SiteID: String] = [:]
            for id in Set(migrations.map(\.siteID)) { domains[id] = try await store.sites(in: .fleet).get(id)?.domain }
            return try StrictJSON.response(ListResponse(items: migrations.map { $0.api(domain: domains[$0.siteID]) }))
        }
        routes.on(.get, "/v1/migrations/:id", .migrationRead) { _, context, _ in
            let id = try parseID(MigrationID.self, context.parameters.get("id"), what: "migration")
            guard let migration = try await store.migrations.get(id) else { throw CHOMError(.notFound, "no migration \(id)") }
            let domain = try await store.sites(in: .fleet).get(migration.siteID)?.domain
            return try StrictJSON.response(migration.api(domain: domain))
        }
        routes.on(.post, "/v1/fleet/rebalance", .fleetRebalance) { request, _, caller in
            let body = try await StrictJSON.decode(
                RebalanceRequest.self, allowed: RebalanceRequest.fields, from: request, optional: true)
            return try StrictJSON.response(try await rebalance(apply: body.apply ?? false, caller))
        }
    }

    /// Turns failover on or off for a site; a placed site's agent is told with a configure task
    /// (its fence leaves a site that never fails over served). Asking for what is already so
    /// changes nothing.
    private func setFailover(_ site: SiteRecord, enabled: Bool, _ caller: Caller) async throws -> SiteFailoverResponse {
        guard site.failoverEnabled != enabled else {
            return SiteFailoverResponse(siteId: site.id.description, domain: site.domain, failoverEnabled: enabled, taskId: nil)
        }
        let organization = try await store.organizations.tenant(site.tenantID)?.organizationID
        var updated = site
        updated.failoverEnabled = enabled
        // The store raises the version with the configure: the task carries the raised one.
        updated.configVersion += 1
        let configured = updated
        var task: NewTask?
        if let agent = site.agentID, !site.isRemoved {
            task = try siteTasks.task(.configure, site: configured, agent: agent) { message in
                var configure = Chom_Agent_V1_ConfigureSiteTask()
                configure.site = try siteTasks.siteConfig(configured)
                message.configure = configure
            }
        }
        let scoped = store.sites(in: try caller.signedIn.scope(atLeast: .viewer))
        try await claiming(caller) { try await write(caller) { transaction in
            try await store.fleet.setFailover(site.id, enabled: enabled, in: transaction)
            if let task {
                try await scoped.configure(site, spec: site.spec, tls: .keep, task: task, now: caller.now, in: transaction)
            }
            var details = ["enabled": "\(enabled)"]
            if let task { details["task"] = task.id.description }
            try await transaction.record(caller.audit(
                "site.failover", target: "site:\(site.id)", organization: organization, tenant: site.tenantID,
                details: details))
        } }
        if let agent = site.agentID { await connections.wake(agent) }
        return SiteFailoverResponse(
            siteId: site.id.description, domain: site.domain, failoverEnabled: enabled, taskId: task?.id.description)
    }

    var migrationStarter: MigrationStarter { MigrationStarter(store: store, configuration: configuration) }

    /// The rebalance plan, and when `apply`, a migration started for each move (in one transaction
    /// under the placement lock, so the plan applied is the plan computed).
    private func rebalance(apply: Bool, _ caller: Caller) async throws -> RebalanceResponse {
        let planner = FleetRebalance(store: store, configuration: configuration)
        guard apply else {
            let view = try await fleetPlacement.view()
            return RebalanceResponse(moves: try await planner.describe(planner.plan(view), view: view), applied: false, migrations: [])
        }
        return try await write(caller) { transaction in
            try await store.fleet.lockPlacement(in: transaction)
            let view = try await fleetPlacement.view()
            let moves = planner.plan(view)
            var started: [MigrationResponse] = []
            for move in moves {
                guard let site = try await store.sites(in: .fleet).get(move.siteID) else { continue }
                let organization = try await store.organizations.tenant(site.tenantID)?.organizationID
                let migration = try await migrationStarter.start(
                    site, to: move.to, reason: "rebalance", requestedBy: caller.actor,
                    audit: caller.audit(
                        "site.migration.start", target: "site:\(site.id)", organization: organization,
                        tenant: site.tenantID, details: ["why": move.reason]),
                    view: view, in: transaction)
                started.append(migration.api(domain: site.domain))
            }
            if moves.isEmpty {
                try await transaction.record(caller.audit("fleet.rebalance", target: "fleet", details: ["moves": "0"]))
            }
            return RebalanceResponse(
                moves: try await planner.describe(moves, view: view), applied: true, migrations: started)
        }
    }
}

/// Agent labels: keys and values operators set and placement constraints match.
enum AgentLabels {
    static func validate(_ labels: [String: String]) throws {
        guard labels.count <= 32 else { throw CHOMError(.invalidInput, "at most 32 labels") }
        for (key, value) in labels {
            guard (1...63).contains(key.utf8.count),
                key.utf8.allSatisfy({ $0.isASCIIAlnum || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_")
                    || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "/") })
            else { throw CHOMError(.invalidInput, "label key '\(key)' must be 1 to 63 of a-z A-Z 0-9 - _ . /") }
            guard value.utf8.count <= 255, !value.contains(where: { $0.isNewline }) else {
                throw CHOMError(.invalidInput, "label '\(key)' has a value longer than 255 bytes or with a newline")
            }
        }
    }
}

extension UInt8 {
    fileprivate var isASCIIAlnum: Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(self) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(self)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(self)
    }
}
