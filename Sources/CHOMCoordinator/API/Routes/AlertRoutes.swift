import CHOMAPI
import CHOMAudit
import CHOMCore
import CHOMStore
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// Alerts: Alertmanager's deliveries in (`POST /v1/alerts/alertmanager`, a webhook receiver
/// authenticated with the bearer token Alertmanager is configured with), and each caller's own
/// out (`GET /v1/alerts`, scoped by `TenantScope` like sites: a member sees the alerts of the sites
/// of their tenants; fleet alerts are for platform operators).
///
/// A delivery stores each alert (`AlertRepository.record`); an alert that starts or stops firing
/// is audited and, for a site's alert, e-mailed to its organization's owners through the outbox,
/// in the same transaction. A repeat of a known alert changes nothing.
extension AdminAPI {
    static let alertmanagerMaxBytes = 1 << 20

    func addAlertRoutes(_ routes: RouteTable) {
        routes.on(.post, "/v1/alerts/alertmanager", .alertmanagerWebhook) { request, _, caller in
            guard let expected = try configuration.notifications.alertmanagerToken() else {
                throw CHOMError(.notFound, "the Alertmanager receiver is not configured (notifications.alertmanagerTokenFile)")
            }
            let presented = request.headers[.authorization].flatMap { header in
                header.hasPrefix("Bearer ") ? String(header.dropFirst(7)) : nil
            }
            guard let presented,
                JoinTokenPolicy.constantTimeEqual(
                    Array(SHA256.hash(data: Data(presented.utf8))), Array(SHA256.hash(data: Data(expected.utf8))))
            else { throw CHOMError(.unauthorized, "the Alertmanager receiver needs its bearer token") }
            var request = request
            let buffer: ByteBuffer
            do {
                buffer = try await request.collectBody(upTo: Self.alertmanagerMaxBytes)
            } catch let error as HTTPError where error.status == .contentTooLarge {
                throw CHOMError(.payloadTooLarge, "the delivery is larger than \(Self.alertmanagerMaxBytes) bytes")
            }
            let payload = try AlertmanagerPayload(Data(buffer.readableBytesView))
            let receipt = try await receive(payload.alerts, now: caller.now)
            return try StrictJSON.response(receipt)
        }
        routes.on(.get, "/v1/alerts", .alertsList) { request, _, caller in
            let principal = try caller.signedIn
            let query = request.uri.queryParameters
            let status = query.get("status")
            guard status == nil || status == "firing" || status == "resolved" else {
                throw CHOMError(.invalidInput, "status must be firing or resolved")
            }
            // A site the caller cannot see answers 404, as on every site route.
            var siteID: SiteID?
            if let name = query.get("site") { siteID = try await site(name, caller, minimum: .viewer).id }
            let page = try Page(request)
            let alerts = try await store.alerts.list(
                scope: principal.scope(atLeast: .viewer), status: status, site: siteID, before: try Self.alertCursor(page),
                limit: page.limit)
            let operatorView = principal.isOperator
            return try page.response(
                alerts, key: { "\(Int64(($0.updatedAt.timeIntervalSince1970 * 1_000_000).rounded())).\($0.id)" },
                map: { operatorView ? $0.api : $0.api.withoutFleetLabels })
        }
    }

    /// The keyset of an alerts page: "<updated_at in whole microseconds>.<id>" (never a float, so
    /// nothing a caller sends can become a timestamp PostgresNIO cannot encode).
    static func alertCursor(_ page: Page) throws -> (Int64, UUID)? {
        guard let after = page.after else { return nil }
        let parts = after.split(separator: ".", maxSplits: 1)
        guard parts.count == 2, let micros = Int64(parts[0]), (0...4_102_444_800_000_000).contains(micros),
            let id = UUID(uuidString: String(parts[1]))
        else { throw CHOMError(.invalidInput, "the cursor is not one this server issued") }
        return (micros, id)
    }

    /// Stores one delivery's alerts; the transitions are audited and notified in the same transaction.
    func receive(_ alerts: [IncomingAlert], now: Date) async throws -> AlertmanagerReceipt {
        struct Unchanged: Error {}
        var receipt = AlertmanagerReceipt(received: alerts.count, firing: 0, resolved: 0)
        do {
            receipt = try await store.write(now: now) { [receipt] transaction in
                var receipt = receipt
                for alert in alerts {
                    let (record, transition) = try await store.alerts.record(alert, now: now, in: transaction)
                    guard let transition else { continue }
                    if transition == .firing { receipt.firing += 1 } else { receipt.resolved += 1 }
                    try await transaction.record(AuditEntry(
                        time: now, actor: "alertmanager", organizationID: record.organizationID?.description,
                        tenantID: record.tenantID?.description, action: "alert.\(transition.rawValue)",
                        target: record.siteID.map { "site:\($0)" } ?? "fleet",
                        details: ["alertname": record.alertname, "fingerprint": record.fingerprint, "severity": record.severity]))
                    if let organization = record.organizationID {
                        try await store.notifications.enqueue(
                            AlertNoticeText.content(record, transition), to: organization, now: now, in: transaction)
                    }
                }
                guard receipt.firing + receipt.resolved > 0 else { throw Unchanged() }
                return receipt
            }
        } catch is Unchanged {}
        return receipt
    }
}

extension AlertResponse {
    /// Without the labels that name the fleet's machinery (targets, agents), for tenants.
    var withoutFleetLabels: AlertResponse {
        var copy = self
        copy.labels = labels.filter { !["instance", "job", "chom_agent_id", "chom_agent_name", "chom_agent_state"].contains($0.key) }
        return copy
    }
}

extension AlertRecord {
    var api: AlertResponse {
        AlertResponse(
            id: id.uuidString.lowercased(), alertname: alertname, status: status, severity: severity, site: site,
            siteId: siteID?.description, tenantId: tenantID?.description, summary: summary, description: description,
            runbook: runbook, labels: labels, startsAt: startsAt, endsAt: endsAt, updatedAt: updatedAt)
    }
}
