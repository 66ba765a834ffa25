import Foundation

extension AdminClient {
    /// Every alert the caller may see (`GET /v1/alerts`), newest change first: only `status`
    /// (firing or resolved) and only `site` (id or domain) when given.
    package func alerts(status: String? = nil, site: String? = nil) async throws(AdminClientError) -> [AlertResponse] {
        try await all("/v1/alerts", filters: [("status", status), ("site", site)])
    }
}
