import CHOMCore
import Foundation

/// The named series a tenant may read for one of its sites or for a whole tenant
/// (`GET /v1/sites/{site}/metrics`, `GET /v1/tenants/{tenant}/metrics`). The coordinator writes
/// every PromQL expression itself from a fixed template, with the site's and tenant's label
/// matchers taken from its own records; nothing the caller sends reaches the query but the choice
/// of a name and of a range from fixed sets (pure; `SiteSeriesQueryTests`).
struct SiteSeriesQuery: Sendable, Equatable {
    enum Series: String, Sendable, CaseIterable {
        /// Requests per second from the access log.
        case requests
        /// Requests per second by status class (1xx … 5xx).
        case status
        /// The agent's health probe's latency, in seconds.
        case latency
        /// Bytes under the site's tree.
        case disk
        /// Deploys by result per step.
        case deploys
        /// Seconds since the last succeeded backup (scheduled sites).
        case backups
        /// 1 while the health probe passes, 0 while it fails.
        case health
    }

    /// A range with its fixed step, so a caller never sets the resolution (nor the load).
    enum Range: String, Sendable, CaseIterable {
        case hour = "1h", sixHours = "6h", day = "24h", week = "7d"

        var seconds: Int {
            switch self {
            case .hour: 3600
            case .sixHours: 6 * 3600
            case .day: 86_400
            case .week: 7 * 86_400
            }
        }

        var stepSeconds: Int {
            switch self {
            case .hour: 60
            case .sixHours: 300
            case .day: 900
            case .week: 3600
            }
        }
    }

    /// What the series is about: one site of a tenant, or every site of a tenant.
    enum Subject: Sendable, Equatable {
        case site(domain: String, tenant: TenantID)
        case tenant(TenantID)
    }

    /// The labels a returned line may keep; the rest (instance, job, agent) is dropped.
    static let keptLabels: Set<String> = ["site", "class", "result"]

    let series: Series
    let range: Range
    let subject: Subject

    /// Reads `series` and `range` from the query; a missing range is an hour.
    init(series: String?, range: String?, subject: Subject) throws {
        guard let series, let parsed = Series(rawValue: series) else {
            throw CHOMError(
                .invalidInput, "series must be one of \(Series.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard let chosen = Range(rawValue: range ?? "1h") else {
            throw CHOMError(.invalidInput, "range must be one of \(Range.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        self.series = parsed
        self.range = chosen
        self.subject = subject
    }

    /// The label matchers of the subject. Values come from CHOM's records (a DNS name, a UUID)
    /// and are escaped all the same.
    var matchers: String {
        switch subject {
        case .site(let domain, let tenant):
            "site=\(Self.quoted(domain)),tenant=\(Self.quoted(tenant.description))"
        case .tenant(let tenant):
            "tenant=\(Self.quoted(tenant.description))"
        }
    }

    /// The PromQL expression. A tenant's series are per site (`by (site)`).
    var promQL: String {
        let window = "[\(range.stepSeconds * 2)s]"
        var perSite: [String] = []
        if case .tenant = subject { perSite = ["site"] }
        func by(_ labels: [String]) -> String {
            let all = perSite + labels
            return all.isEmpty ? "" : " by (\(all.joined(separator: ", ")))"
        }
        return switch series {
        case .requests: "sum\(by([]))(rate(chom_site_requests_total{\(matchers)}\(window)))"
        case .status: "sum\(by(["class"]))(rate(chom_site_requests_total{\(matchers)}\(window)))"
        case .latency: "max\(by([]))(chom_site_probe_duration_seconds{\(matchers)})"
        case .disk: "max\(by([]))(chom_site_disk_bytes{\(matchers)})"
        case .deploys: "sum\(by(["result"]))(increase(chom_site_deploys_total{\(matchers)}[\(range.stepSeconds)s]))"
        case .backups: "max\(by([]))(chom_coordinator_site_backup_age_seconds{\(matchers)})"
        case .health: "min\(by([]))(chom_site_up{\(matchers)})"
        }
    }

    /// A PromQL string literal: backslash, double quote and line breaks escaped.
    static func quoted(_ value: String) -> String {
        var text = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\\": text += "\\\\"
            case "\"": text += "\\\""
            case "\n": text += "\\n"
            case "\r": text += "\\r"
            default: text.unicodeScalars.append(scalar)
            }
        }
        return text + "\""
    }
}
