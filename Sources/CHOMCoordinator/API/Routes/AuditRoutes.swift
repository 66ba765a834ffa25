import CHOMAPI
import CHOMAudit
import CHOMCore
import CHOMProtocol
import CHOMStore
import Foundation
import Hummingbird
import NIOCore

/// Reading and verifying the audit log. Tenant admins read their organizations' entries;
/// operators read everything, verify the chain and export the signed checkpoints.
extension AdminAPI {
    func addAuditRoutes(_ routes: RouteTable) {
        routes.on(.get, "/v1/audit", .auditList) { request, _, caller in
            let page = try Page(request)
            let principal = try caller.signedIn
            let query = request.uri.queryParameters
            func time(_ name: String) throws -> Date? {
                guard let text = query.get(name) else { return nil }
                guard let date = try? Date(text, strategy: .iso8601) else {
                    throw CHOMError(.invalidInput, "\(name) must be an ISO-8601 UTC time like 2026-11-26T19:30:00Z")
                }
                return date
            }
            var tenants: [TenantID]?
            if !principal.isOperator {
                let admin = principal.memberships.filter { $0.role.isAtLeast(.admin) }
                if admin.contains(where: { !$0.tenantIDs.isEmpty }) {
                    tenants = principal.grants.filter { $0.role.isAtLeast(.admin) }.map(\.tenantID)
                }
            }
            let entries = try await store.audit.list(AuditQuery(
                organizationIDs: principal.organizations(atLeast: .admin), tenantIDs: tenants,
                action: query.get("action"), actor: query.get("actor"), since: try time("since"),
                until: try time("until"), before: try page.afterSequence, limit: page.limit))
            return try page.response(entries, key: { String($0.sequence) }, map: \.api)
        }
        routes.on(.get, "/v1/audit/verify", .auditVerify) { _, _, _ in
            try StrictJSON.response(try await verifyAudit(extra: []))
        }
        routes.on(.post, "/v1/audit/verify", .auditVerifyWithCheckpoints) { request, _, _ in
            let body = try await StrictJSON.decode(AuditVerifyRequest.self, allowed: AuditVerifyRequest.fields, from: request)
            let checkpoints: [AuditCheckpoint]
            do {
                checkpoints = try AuditCheckpoint.parseJSONLines(body.checkpoints)
            } catch let error as CHOMError {
                throw CHOMError(.invalidInput, "checkpoints: \(error.message)")
            }
            return try StrictJSON.response(try await verifyAudit(extra: checkpoints))
        }
        routes.on(.get, "/v1/audit/checkpoints", .auditCheckpoints) { _, _, _ in
            let text = AuditCheckpoint.jsonLines(try await store.audit.checkpoints())
            return Response(
                status: .ok, headers: [.contentType: "text/plain; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
        }
    }

    func verifyAudit(extra: [AuditCheckpoint]) async throws -> AuditVerifyResponse {
        try await AuditSelfCheck(store: store, publicKey: keys.signer.publicKey).verify(extra: extra)
    }
}
