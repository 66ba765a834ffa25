/// Scheduling and migration: cordon, uncordon, drain and label agents, move sites, rebalance.
extension AdminClient {
    /// `POST /v1/agents/{id}/cordon|uncordon|drain`.
    package func setScheduling(agent id: String, _ verb: String) async throws(AdminClientError) -> AgentResponse {
        try await json(.post, "/v1/agents/\(segment(id))/\(segment(verb))", body: EmptyBody())
    }

    package func setLabels(agent id: String, _ labels: [String: String]) async throws(AdminClientError) -> AgentResponse {
        try await json(.put, "/v1/agents/\(segment(id))/labels", body: AgentLabelsRequest(labels: labels))
    }

    package func moveSite(_ site: String, to agent: String?) async throws(AdminClientError) -> MigrationResponse {
        try await json(.post, "/v1/sites/\(segment(site))/move", body: MoveSiteRequest(agentId: agent))
    }

    /// `PUT /v1/sites/{site}/requests`: the site's own resource requests (nil fields: the kind's default).
    package func setRequests(site: String, _ requests: SiteRequestsRequest) async throws(AdminClientError)
        -> SiteRequestsResponse
    {
        try await json(.put, "/v1/sites/\(segment(site))/requests", body: requests)
    }

    /// `GET /v1/agents/{id}/failover-plan`.
    /// `PUT /v1/sites/{site}/failover`: turns failover on or off for one site.
    package func setFailover(site: String, enabled: Bool) async throws(AdminClientError) -> SiteFailoverResponse {
        try await json(.put, "/v1/sites/\(segment(site))/failover", body: SiteFailoverRequest(enabled: enabled))
    }

    package func failoverPlan(agent id: String) async throws(AdminClientError) -> FailoverPlanResponse {
        try await json(.get, "/v1/agents/\(segment(id))/failover-plan")
    }

    package func migration(id: String) async throws(AdminClientError) -> MigrationResponse {
        try await json(.get, "/v1/migrations/\(segment(id))")
    }

    /// The newest migrations first; `open` keeps those still running.
    package func migrations(site: String? = nil, open: Bool = false) async throws(AdminClientError)
        -> [MigrationResponse]
    {
        var query: [String] = []
        if let site { query.append("site=\(segment(site))") }
        if open { query.append("open=true") }
        let page: ListResponse<MigrationResponse> = try await json(
            .get, "/v1/migrations" + (query.isEmpty ? "" : "?" + query.joined(separator: "&")))
        return page.items
    }

    package func rebalance(apply: Bool) async throws(AdminClientError) -> RebalanceResponse {
        try await json(.post, "/v1/fleet/rebalance", body: RebalanceRequest(apply: apply))
    }
}

/// `{}` for a POST that takes no fields.
package struct EmptyBody: Codable, Sendable, Equatable {
    package init() {}
}
