package import Foundation

/// An alert as `GET /v1/alerts` answers it. `site` and `tenantId` are set for a site's alert
/// (filed under its tenant); a fleet alert (an agent, the coordinator) has neither and is seen by
/// platform operators only.
package struct AlertResponse: Codable, Sendable, Equatable {
    package var id: String
    package var alertname: String
    /// firing or resolved.
    package var status: String
    package var severity: String
    package var site: String?
    package var siteId: String?
    package var tenantId: String?
    package var summary: String
    package var description: String
    package var runbook: String
    package var labels: [String: String]
    package var startsAt: Date
    package var endsAt: Date?
    package var updatedAt: Date

    package init(
        id: String, alertname: String, status: String, severity: String, site: String?, siteId: String?,
        tenantId: String?, summary: String, description: String, runbook: String, labels: [String: String],
        startsAt: Date, endsAt: Date?, updatedAt: Date
    ) {
        self.id = id
        self.alertname = alertname
        self.status = status
        self.severity = severity
        self.site = site
        self.siteId = siteId
        self.tenantId = tenantId
        self.summary = summary
        self.description = description
        self.runbook = runbook
        self.labels = labels
        self.startsAt = startsAt
        self.endsAt = endsAt
        self.updatedAt = updatedAt
    }
}

/// The answer to one Alertmanager delivery: how many alerts it held, and how many started or
/// stopped firing with it (a repeat of a known alert is neither).
package struct AlertmanagerReceipt: Codable, Sendable, Equatable {
    package var received: Int
    package var firing: Int
    package var resolved: Int

    package init(received: Int, firing: Int, resolved: Int) {
        self.received = received
        self.firing = firing
        self.resolved = resolved
    }
}

/// `GET /v1/sites/{site}/metrics` and `GET /v1/tenants/{tenant}/metrics`: one named series over a
/// range, as lines of points (a tenant's are one line per site; `status` one per class).
package struct MetricSeriesResponse: Codable, Sendable, Equatable {
    package struct Point: Codable, Sendable, Equatable {
        package var time: Date
        package var value: Double
        package init(time: Date, value: Double) {
            self.time = time
            self.value = value
        }
    }

    package struct Line: Codable, Sendable, Equatable {
        /// Only `site`, `class` or `result`, when the series has them.
        package var labels: [String: String]
        package var points: [Point]
        package init(labels: [String: String], points: [Point]) {
            self.labels = labels
            self.points = points
        }
    }

    package var series: String
    package var range: String
    package var stepSeconds: Int
    package var lines: [Line]

    package init(series: String, range: String, stepSeconds: Int, lines: [Line]) {
        self.series = series
        self.range = range
        self.stepSeconds = stepSeconds
        self.lines = lines
    }
}
