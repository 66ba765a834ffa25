import CHOMAPI
import CHOMCore
import CHOMProtocol
import CHOMScheduler
import CHOMStore
import CHOMTransport
import Crypto
import Foundation
import Hummingbird
import NIOCore
import SwiftProtobuf

/// The admin REST API under `/v1`, plus `/metrics`.
struct AdminAPI: Sendable {
    let store: Store
    let keys: CoordinatorKeys
    let configuration: CoordinatorConfiguration
    let connections: AgentConnections
    let metrics: CoordinatorMetrics
    let clock: any WallClock
    let enrollAddress: @Sendable () -> String

    func router(bootstrapToken: String) -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: ProblemMiddleware(metrics: metrics))
        router.get("/metrics") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: metrics.exposition())))
        }
        let v1 = router.group("v1").add(middleware: BearerTokenMiddleware(token: bootstrapToken))
        v1.get("health") { _, _ in try StrictJSON.response(HealthResponse(status: "ok")) }
        v1.post("join-tokens") { request, _ in try await createJoinToken(request) }
        v1.get("join-tokens") { _, _ in
            try StrictJSON.response(ListResponse(items: try await store.joinTokens.list().map(\.api)))
        }
        v1.delete("join-tokens/:id") { _, context in
            let id = try parseID(JoinTokenID.self, context.parameters.get("id"), what: "join token")
            guard try await store.joinTokens.revoke(id, now: clock.now()) else {
                throw CHOMError(.notFound, "no join token \(id)")
            }
            return Response(status: .noContent)
        }
        v1.get("join-tokens/:id/uses") { _, context in
            let id = try parseID(JoinTokenID.self, context.parameters.get("id"), what: "join token")
            guard try await store.joinTokens.get(id) != nil else { throw CHOMError(.notFound, "no join token \(id)") }
            let uses = try await store.joinTokens.uses(of: id).map {
                JoinTokenUseResponse(
                    usedAt: $0.usedAt, sourceAddress: $0.sourceAddress, outcome: $0.outcome,
                    agentId: $0.agentID?.description)
            }
            return try StrictJSON.response(ListResponse(items: uses))
        }
        v1.get("agents") { _, _ in
            try StrictJSON.response(ListResponse(items: try await store.agents.list().map(\.api)))
        }
        v1.get("agents/:id") { _, context in
            try StrictJSON.response(try await agent(context.parameters.get("id")).api)
        }
        v1.delete("agents/:id") { _, context in
            let agent = try await agent(context.parameters.get("id"))
            _ = try await store.agents.delete(agent.id, now: clock.now())
            return Response(status: .noContent)
        }
        v1.get("discovery/prometheus") { _, _ in
            // Prometheus HTTP service discovery: one target group per agent that reported a metrics address.
            let groups = try await store.agents.list().filter { !$0.metricsAddress.isEmpty }.map {
                PrometheusTargetGroup(
                    targets: [$0.metricsAddress],
                    labels: ["chom_agent_id": $0.id.description, "chom_agent_name": $0.name, "chom_agent_state": $0.state.rawValue])
            }
            return try StrictJSON.response(groups)
        }
        v1.post("sites") { request, _ in try await createSite(request) }
        v1.get("sites") { _, _ in
            try StrictJSON.response(ListResponse(items: try await store.sites.list().map(\.api)))
        }
        v1.get("sites/:site") { _, context in
            try StrictJSON.response(try await site(context.parameters.get("site")).api)
        }
        v1.post("sites/:site/releases") { request, context in
            let site = try await site(context.parameters.get("site"))
            let release = try await ReleaseUpload(store: store, maxBytes: configuration.api.maxBodyBytes, clock: clock)
                .receive(request, for: site)
            return try StrictJSON.response(release.api, status: .created)
        }
        v1.post("sites/:site/deploy") { request, context in
            try await deploy(request, siteParameter: context.parameters.get("site"))
        }
        v1.get("tasks/:id") { _, context in
            let id = try parseID(TaskID.self, context.parameters.get("id"), what: "task")
            guard let task = try await store.tasks.get(id) else { throw CHOMError(.notFound, "no task \(id)") }
            return try StrictJSON.response(task.api)
        }
        return router
    }

    private func createJoinToken(_ request: Request) async throws -> Response {
        let body = try await StrictJSON.decode(
            CreateJoinTokenRequest.self, allowed: CreateJoinTokenRequest.fields, from: request)
        let ttl = body.ttlSeconds ?? configuration.joinTokens.defaultTTLSeconds
        let maxUses = body.maxUses ?? configuration.joinTokens.defaultMaxUses
        guard ttl >= 60, ttl <= 30 * 86_400 else {
            throw CHOMError(.invalidInput, "ttlSeconds must be between 60 and 2592000")
        }
        guard (1...1000).contains(maxUses) else { throw CHOMError(.invalidInput, "maxUses must be between 1 and 1000") }
        let description = body.description ?? ""
        guard description.count <= 200 else { throw CHOMError(.invalidInput, "description is longer than 200 characters") }
        let secret = JoinTokenSecret.generate()
        let now = clock.now()
        let record = try await store.joinTokens.create(
            id: secret.id, secretSHA256: secret.secretSHA256, description: description, maxUses: maxUses,
            expiresAt: now.addingTimeInterval(ttl), now: now)
        return try StrictJSON.response(
            CreatedJoinTokenResponse(
                joinToken: record.api, token: secret.token, caSHA256: keys.ca.fingerprintSHA256,
                enrollAddress: enrollAddress()),
            status: .created)
    }

    private func createSite(_ request: Request) async throws -> Response {
        let body = try await StrictJSON.decode(CreateSiteRequest.self, allowed: CreateSiteRequest.fields, from: request)
        let domain = body.domain.lowercased()
        guard DomainName.isValid(domain) else { throw CHOMError(.invalidInput, "'\(body.domain)' is not a valid domain") }
        let site = try await store.sites.create(id: SiteID(), domain: domain, now: clock.now()) { candidates in
            Placement.choose(candidates.map {
                Placement.Candidate(
                    agentID: $0.agentID, capacity: Capacity(maxSites: $0.maxSites, hostedSites: $0.placedSites))
            })
        }
        return try StrictJSON.response(site.api, status: .created)
    }

    private func deploy(_ request: Request, siteParameter: String?) async throws -> Response {
        let site = try await site(siteParameter)
        let body = try await StrictJSON.decode(DeployRequest.self, allowed: DeployRequest.fields, from: request)
        let releaseID = try parseID(ReleaseID.self, body.releaseId, what: "release")
        guard let release = try await store.releases.get(releaseID), release.siteID == site.id else {
            throw CHOMError(.notFound, "no release \(releaseID) for site \(site.domain)")
        }
        guard let agent = site.agentID else { throw CHOMError(.conflict, "site \(site.domain) is not placed on an agent") }
        let keep = body.keepReleases ?? 5
        guard (1...50).contains(keep) else { throw CHOMError(.invalidInput, "keepReleases must be between 1 and 50") }
        let taskID = TaskID()
        var deploy = Chom_Agent_V1_DeployTask()
        deploy.siteID = site.id.description
        deploy.domain = site.domain
        deploy.releaseID = release.id.description
        deploy.artifactSha256 = release.sha256
        deploy.artifactSize = UInt64(release.sizeBytes)
        deploy.artifactFormat = release.format == "tar.gz" ? .tarGzip : .tarZstd
        deploy.keepReleases = UInt32(keep)
        var task = Chom_Agent_V1_Task()
        task.taskID = taskID.description
        task.deploy = deploy
        let now = clock.now()
        try await store.sites.startDeploy(
            site.id,
            task: NewTask(
                id: taskID, agentID: agent, siteID: site.id, releaseID: release.id, kind: .deploy,
                payload: try task.serializedBytes(), maxAttempts: configuration.dispatch.maxDeliveryAttempts),
            now: now)
        await connections.wake(agent)
        guard let record = try await store.tasks.get(taskID) else { throw CHOMError(.internal, "task vanished") }
        return try StrictJSON.response(record.api, status: .accepted)
    }

    private func agent(_ parameter: String?) async throws -> AgentRecord {
        let id = try parseID(AgentID.self, parameter, what: "agent")
        guard let agent = try await store.agents.get(id), agent.state != .deleted else {
            throw CHOMError(.notFound, "no agent \(id)")
        }
        return agent
    }

    private func site(_ parameter: String?) async throws -> SiteRecord {
        guard let parameter, !parameter.isEmpty else { throw CHOMError(.invalidInput, "missing site") }
        if let id = SiteID(parameter), let site = try await store.sites.get(id) { return site }
        if let site = try await store.sites.get(domain: parameter.lowercased()) { return site }
        throw CHOMError(.notFound, "no site \(parameter)")
    }

    private func parseID<Tag>(_ type: Identifier<Tag>.Type, _ value: String?, what: String) throws -> Identifier<Tag> {
        guard let value, let id = Identifier<Tag>(value) else {
            throw CHOMError(.notFound, "no \(what) \(value ?? "")")
        }
        return id
    }
}
