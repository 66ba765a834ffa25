import CHOMAPI
import CHOMCore
import CHOMStore
import Foundation
import Hummingbird
import NIOCore

/// The admin REST API under `/v1` (described by `Protocol/admin-api.yaml`, served at
/// `/v1/openapi.yaml`), plus `/metrics`. Each route names its `APIAction`; `RouteTable`
/// checks the policy for it before the handler runs.
struct AdminAPI: Sendable {
    let store: Store
    let keys: CoordinatorKeys
    let configuration: CoordinatorConfiguration
    let connections: AgentConnections
    let metrics: CoordinatorMetrics
    let clock: any WallClock
    let identity: IdentityServices
    let openAPIDocument: ByteBuffer
    let enrollAddress: @Sendable () -> String

    func router() -> Router<APIRequestContext> {
        let router = Router(context: APIRequestContext.self)
        router.add(middleware: TraceContextMiddleware())
        router.add(middleware: ProblemMiddleware(metrics: metrics))
        router.get("/metrics") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: metrics.exposition())))
        }
        let routes = RouteTable(
            router: router,
            access: AccessControl(
                authenticator: Authenticator(store: store, tokenPolicy: identity.tokenPolicy), clock: clock))
        routes.on(.get, "/v1/health", .health) { _, _, _ in try StrictJSON.response(HealthResponse(status: "ok")) }
        let document = openAPIDocument
        routes.on(.get, "/v1/openapi.yaml", .openAPI) { _, _, _ in
            Response(status: .ok, headers: [.contentType: "application/yaml"], body: ResponseBody(byteBuffer: document))
        }
        addAuthRoutes(routes)
        addAccountRoutes(routes)
        addTokenRoutes(routes)
        addOrganizationRoutes(routes)
        addMemberRoutes(routes)
        addSiteRoutes(routes)
        addSiteDeployRoutes(routes)
        addSiteConfigRoutes(routes)
        addSiteLifecycleRoutes(routes)
        addSiteLogRoutes(routes)
        addBackupRoutes(routes)
        addAuditRoutes(routes)
        addFleetRoutes(routes)
        addFleetSchedulingRoutes(routes)
        addBillingRoutes(routes)
        addInvoiceRoutes(routes)
        addStripeWebhookRoutes(routes)
        addAlertRoutes(routes)
        addNotificationRoutes(routes)
        addMetricsRoutes(routes)
        return router
    }

    func parseID<Tag>(_ type: Identifier<Tag>.Type, _ value: String?, what: String) throws -> Identifier<Tag> {
        guard let value, let id = Identifier<Tag>(value) else {
            throw CHOMError(.notFound, "no \(what) \(value ?? "")")
        }
        return id
    }

    /// Plan limits where the work starts.
    var quotas: BillingQuotas { BillingQuotas(store: store, configuration: configuration.billing) }

    /// Writes `body` and its audit entries in one transaction (see `Store.write`).
    @discardableResult
    func write<Result: Sendable>(_ caller: Caller, _ body: (AuditedTransaction) async throws -> Result) async throws
        -> Result
    {
        try await store.write(now: caller.now, body)
    }
}
