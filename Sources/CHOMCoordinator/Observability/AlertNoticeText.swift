import CHOMCore
import CHOMStore
import Foundation

/// The email an organization's owners get when one of its sites' alerts starts or stops firing
/// (pure text; the outbox sends it). The subject holds the alert's name (Prometheus' grammar,
/// checked on receipt) and the site's domain (from CHOM's own records); everything the rules'
/// annotations say goes into the body, one line each, with control characters removed.
enum AlertNoticeText {
    static func event(_ transition: AlertRepository.Transition) -> NotificationEvent {
        transition == .firing ? .alertFiring : .alertResolved
    }

    /// The email's text, and for webhooks the alert's fields (no fleet labels: the agent and the
    /// scrape target are the hosting company's business).
    static func content(_ alert: AlertRecord, _ transition: AlertRepository.Transition) -> NotificationContent {
        let (subject, body) = message(alert, transition)
        var data = [
            "alertname": alert.alertname, "status": transition.rawValue, "severity": alert.severity,
            "starts_at": alert.startsAt.formatted(.iso8601),
        ]
        if let site = alert.site { data["site"] = site }
        if let site = alert.siteID { data["site_id"] = site.description }
        if let tenant = alert.tenantID { data["tenant_id"] = tenant.description }
        if let end = alert.endsAt, transition == .resolved { data["ends_at"] = end.formatted(.iso8601) }
        if !alert.summary.isEmpty { data["summary"] = String(alert.summary.prefix(500)) }
        return NotificationContent(event: event(transition), subject: subject, body: body, data: data)
    }

    static func message(_ alert: AlertRecord, _ transition: AlertRepository.Transition) -> (subject: String, body: String) {
        let site = alert.site ?? "the fleet"
        let subject = "[CHOM] \(transition == .firing ? "Firing" : "Resolved"): \(alert.alertname) on \(site)"
        var lines = [
            transition == .firing ? "An alert is firing for one of your sites." : "An alert for one of your sites has stopped firing.",
            "",
            "Alert: \(alert.alertname) (\(alert.severity.isEmpty ? "no severity" : clean(String(alert.severity.prefix(40)))))",
            "Site: \(site)",
            "Since: \(alert.startsAt.formatted(.iso8601))",
        ]
        if transition == .resolved, let end = alert.endsAt { lines.append("Until: \(end.formatted(.iso8601))") }
        for (title, text) in [("Summary", alert.summary), ("Details", alert.description), ("What to do", alert.runbook)]
        where !text.isEmpty {
            lines.append("\(title): \(clean(text))")
        }
        lines += ["", "`chom alerts` lists your organization's alerts."]
        return (subject, lines.joined(separator: "\n") + "\n")
    }

    /// One line: control characters (CR and LF among them) become spaces.
    static func clean(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.map {
            CharacterSet.controlCharacters.contains($0) ? " " : $0
        }))
    }
}
