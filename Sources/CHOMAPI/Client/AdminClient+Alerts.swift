import Foundation

extension AdminClient {
    /// Every alert the caller may see (`GET /v1/alerts`), newest change first: only `status`
    /// (firing or resolved) and only `site` (id or domain) when given.
    package func alerts(status: String? = nil, site: String? = nil) async throws(AdminClientError) -> [AlertResponse] {
        try await all("/v1/alerts", filters: [("status", status), ("site", site)])
    }
}

extension AdminClient {
    /// One named series of a site over a range (`GET /v1/sites/{site}/metrics`).
    package func siteMetrics(_ site: String, series: String, range: String) async throws(AdminClientError)
        -> MetricSeriesResponse
    {
        try await json(.get, "/v1/sites/\(segment(site))/metrics?series=\(segment(series))&range=\(segment(range))")
    }

    /// One named series of every site of a tenant (`GET /v1/tenants/{tenant}/metrics`).
    package func tenantMetrics(_ tenant: String, series: String, range: String) async throws(AdminClientError)
        -> MetricSeriesResponse
    {
        try await json(.get, "/v1/tenants/\(segment(tenant))/metrics?series=\(segment(series))&range=\(segment(range))")
    }
}
