package import Foundation

#if canImport(FoundationNetworking)
package import FoundationNetworking
#endif

/// The coordinator's admin REST API (`/v1`), one async method per route.
///
/// Every method throws `AdminClientError`: `.problem` for an error answer (`.rateLimited` for a 429,
/// with its `Retry-After`), `.transport` when the coordinator cannot be reached, `.decoding` when a
/// 2xx body does not match the API's types. The client imports nothing of the coordinator; the
/// shared contract is the `*Types.swift` files. A list route comes as one page (`cursor`, `limit` →
/// `ListResponse`) and, where handy, as `all…`, which follows `nextCursor` to the end.
package struct AdminClient: Sendable {
    package let baseURL: URL
    let token: BearerToken?
    let session: URLSession

    /// - Parameters:
    ///   - baseURL: the coordinator's admin address, e.g. `http://127.0.0.1:8080` (a path prefix is kept).
    ///   - token: the admin bearer token, sent as `Authorization: Bearer …`; nil sends none.
    ///   - session: the URL session to use.
    package init(baseURL: URL, token: String?, session: URLSession = .shared) {
        self.baseURL = baseURL
        self.token = token.map(BearerToken.init)
        self.session = session
    }

    // MARK: Health

    package func health() async throws(AdminClientError) -> HealthResponse {
        try await json(.get, "/v1/health")
    }

    // MARK: Join tokens

    package func createJoinToken(_ request: CreateJoinTokenRequest) async throws(AdminClientError)
        -> CreatedJoinTokenResponse
    {
        try await json(.post, "/v1/join-tokens", body: request)
    }

    /// Every join token, following the pages.
    package func joinTokens() async throws(AdminClientError) -> [JoinTokenResponse] {
        try await all("/v1/join-tokens")
    }

    package func revokeJoinToken(id: String) async throws(AdminClientError) {
        try await noContent(.delete, "/v1/join-tokens/\(segment(id))")
    }

    /// Every use of a join token, following the pages.
    package func joinTokenUses(id: String) async throws(AdminClientError) -> [JoinTokenUseResponse] {
        try await all("/v1/join-tokens/\(segment(id))/uses")
    }

    // MARK: Agents

    /// Every agent, following the pages.
    package func agents() async throws(AdminClientError) -> [AgentResponse] {
        try await all("/v1/agents")
    }

    package func agent(id: String) async throws(AdminClientError) -> AgentResponse {
        try await json(.get, "/v1/agents/\(segment(id))")
    }

    /// `POST /v1/agents/{agent}/ping`: queues a ping task for the agent.
    package func ping(agent id: String) async throws(AdminClientError) -> TaskResponse {
        try await json(.post, "/v1/agents/\(segment(id))/ping")
    }

    package func deleteAgent(id: String) async throws(AdminClientError) {
        try await noContent(.delete, "/v1/agents/\(segment(id))")
    }

    // MARK: Sites and releases

    /// Creates a site in a tenant (`POST /v1/tenants/{tenantId}/sites`).
    package func createSite(tenantID: String, domain: String) async throws(AdminClientError) -> SiteResponse {
        try await json(.post, "/v1/tenants/\(segment(tenantID))/sites", body: CreateSiteRequest(domain: domain))
    }

    /// Every site the caller may see, following the pages.
    package func sites() async throws(AdminClientError) -> [SiteResponse] {
        try await all("/v1/sites")
    }

    /// One page of a tenant's sites.
    package func sites(tenantID: String, cursor: String? = nil, limit: Int? = nil) async throws(AdminClientError)
        -> ListResponse<SiteResponse>
    {
        try await page("/v1/tenants/\(segment(tenantID))/sites", cursor: cursor, limit: limit)
    }

    package func allSites(tenantID: String) async throws(AdminClientError) -> [SiteResponse] {
        try await all("/v1/tenants/\(segment(tenantID))/sites")
    }

    /// - Parameter site: the site's ID or its domain.
    package func site(_ site: String) async throws(AdminClientError) -> SiteResponse {
        try await json(.get, "/v1/sites/\(segment(site))")
    }

    /// Uploads a release archive (tar.zst) for `site` (ID or domain).
    package func uploadRelease(site: String, archive: Data) async throws(AdminClientError) -> ReleaseResponse {
        let request = makeRequest(.post, "/v1/sites/\(segment(site))/releases", contentType: "application/zstd")
        let (data, response) = try await exchange(request, upload: archive)
        return try decode(ReleaseResponse.self, data, response, request)
    }

    /// Starts deploying `releaseID` to `site` (ID or domain); the answer is the queued task.
    package func deploy(site: String, releaseID: String, keepReleases: Int? = nil) async throws(AdminClientError)
        -> TaskResponse
    {
        try await json(
            .post, "/v1/sites/\(segment(site))/deploy", body: DeployRequest(releaseId: releaseID, keepReleases: keepReleases))
    }

    // MARK: Tasks

    package func task(id: String) async throws(AdminClientError) -> TaskResponse {
        try await json(.get, "/v1/tasks/\(segment(id))")
    }
}

/// The admin token, kept out of `description`, `debugDescription` and mirrors.
struct BearerToken: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    let value: String
    var description: String { "<redacted>" }
    var debugDescription: String { "<redacted>" }
    var customMirror: Mirror { Mirror(self, children: [:]) }
}

/// A client reflects as its base URL only: the token is redacted anyway, and walking the
/// URLSession (which other threads are using) with `dump` can crash.
extension AdminClient: CustomReflectable {
    package var customMirror: Mirror {
        Mirror(self, children: ["baseURL": baseURL, "token": token as Any], displayStyle: .struct)
    }
}
