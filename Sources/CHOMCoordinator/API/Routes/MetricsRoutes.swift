import AsyncHTTPClient
import CHOMAPI
import CHOMCore
import CHOMStore
import Foundation
import Hummingbird
import NIOCore

/// A tenant's own metrics: `GET /v1/sites/{site}/metrics` and `GET /v1/tenants/{tenant}/metrics`
/// (viewers and up, token ability `sites:read`), one named series over a fixed range, read from the
/// operator's Prometheus with a query the coordinator writes (`SiteSeriesQuery`). The site or
/// tenant is resolved through the caller's scope first (404 when invisible); the series and range
/// must be names from fixed sets (400 otherwise); no Prometheus configured is 404, one that does
/// not answer 503.
extension AdminAPI {
    func addMetricsRoutes(_ routes: RouteTable) {
        routes.on(.get, "/v1/sites/:site/metrics", .siteMetricsRead) { request, context, caller in
            let site = try await site(context.parameters.get("site"), caller, minimum: .viewer)
            let parameters = request.uri.queryParameters
            let query = try SiteSeriesQuery(
                series: parameters.get("series"), range: parameters.get("range"),
                subject: .site(domain: site.domain, tenant: site.tenantID))
            return try StrictJSON.response(try await prometheus().range(query, end: caller.now))
        }
        routes.on(.get, "/v1/tenants/:tenant/metrics", .tenantMetricsRead) { request, context, caller in
            let tenant = try await visibleTenant(context.parameters.get("tenant"), caller, minimum: .viewer)
            let parameters = request.uri.queryParameters
            let query = try SiteSeriesQuery(
                series: parameters.get("series"), range: parameters.get("range"), subject: .tenant(tenant.id))
            return try StrictJSON.response(try await prometheus().range(query, end: caller.now))
        }
    }

    private func prometheus() throws -> PrometheusQueryClient {
        guard let text = configuration.observability.prometheusURL, let base = URL(string: text) else {
            throw CHOMError(.notFound, "metrics are not configured on this coordinator (observability.prometheusURL)")
        }
        return PrometheusQueryClient(
            base: base, timeout: .milliseconds(Int64(configuration.observability.queryTimeoutSeconds * 1000)),
            client: .shared)
    }
}
