import CHOMCore
import CHOMStore
import Crypto
import Foundation

/// Alertmanager's webhook body (version 4), read with bounds: at most `maximumAlerts` alerts, 64
/// labels each, label names as Prometheus allows them, values and annotations cut to their
/// limits, an `alertname` label Prometheus would accept (it goes into an e-mail subject).
/// Anything else in the body is ignored.
struct AlertmanagerPayload: Sendable, Equatable {
    static let maximumAlerts = 1000
    static let maximumLabels = 64
    static let maximumValueBytes = 1024
    static let maximumAnnotationCharacters = 4096

    let alerts: [IncomingAlert]

    private struct Body: Decodable {
        struct Alert: Decodable {
            var status: String
            var labels: [String: String]
            var annotations: [String: String]?
            var startsAt: String
            var endsAt: String?
            var fingerprint: String?
        }
        var version: String?
        var alerts: [Alert]
    }

    init(_ data: Data) throws {
        let body: Body
        do {
            body = try JSONDecoder().decode(Body.self, from: data)
        } catch {
            throw CHOMError(.invalidInput, "not an Alertmanager webhook body (version 4): \(Self.describe(error))")
        }
        if let version = body.version, version != "4" {
            throw CHOMError(.invalidInput, "Alertmanager webhook version \(version) is not supported (4 is)")
        }
        guard body.alerts.count <= Self.maximumAlerts else {
            throw CHOMError(.invalidInput, "more than \(Self.maximumAlerts) alerts in one delivery")
        }
        alerts = try body.alerts.enumerated().map { index, alert in try Self.alert(alert, index: index) }
    }

    private static func alert(_ alert: Body.Alert, index: Int) throws -> IncomingAlert {
        let at = "alerts[\(index)]"
        guard alert.status == "firing" || alert.status == "resolved" else {
            throw CHOMError(.invalidInput, "\(at).status must be firing or resolved")
        }
        guard alert.labels.count <= maximumLabels else { throw CHOMError(.invalidInput, "\(at) has more than \(maximumLabels) labels") }
        for (name, value) in alert.labels {
            guard name.range(of: #"^[A-Za-z_][A-Za-z0-9_]{0,127}\z"#, options: .regularExpression) != nil else {
                throw CHOMError(.invalidInput, "\(at) has a label name Prometheus would not allow")
            }
            guard value.utf8.count <= maximumValueBytes else {
                throw CHOMError(.invalidInput, "\(at).labels.\(name) is longer than \(maximumValueBytes) bytes")
            }
        }
        guard let name = alert.labels["alertname"],
            name.range(of: #"^[A-Za-z_][A-Za-z0-9_:]{0,199}\z"#, options: .regularExpression) != nil
        else { throw CHOMError(.invalidInput, "\(at) needs an alertname label as Prometheus names alerts") }
        guard let startsAt = timestamp(alert.startsAt) else {
            throw CHOMError(.invalidInput, "\(at).startsAt is not an RFC 3339 time")
        }
        // Alertmanager sends 0001-01-01T00:00:00Z for "no end yet".
        let endsAt = alert.endsAt.flatMap(timestamp).flatMap { $0.timeIntervalSince1970 > 0 ? $0 : nil }
        let fingerprint = alert.fingerprint.flatMap { $0.range(of: #"^[0-9a-f]{1,64}\z"#, options: .regularExpression) != nil ? $0 : nil }
            ?? Self.fingerprint(alert.labels)
        func annotation(_ key: String) -> String {
            String((alert.annotations?[key] ?? "").prefix(maximumAnnotationCharacters))
        }
        return IncomingAlert(
            fingerprint: fingerprint, alertname: name, firing: alert.status == "firing", labels: alert.labels,
            summary: annotation("summary"), description: annotation("description"), runbook: annotation("runbook"),
            startsAt: startsAt, endsAt: endsAt)
    }

    /// A stand-in for Alertmanager's fingerprint when it sent none: SHA-256 of the sorted labels.
    static func fingerprint(_ labels: [String: String]) -> String {
        let text = labels.sorted { $0.key < $1.key }.map { "\($0.key)\u{1F}\($0.value)" }.joined(separator: "\u{1E}")
        return String(Hex.encode(Array(SHA256.hash(data: Data(text.utf8)))).prefix(16))
    }

    /// RFC 3339 with any number of fractional digits (Alertmanager sends nanoseconds).
    static func timestamp(_ text: String) -> Date? {
        let pattern = #"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})\z"#
        guard text.range(of: pattern, options: .regularExpression) != nil else { return nil }
        var whole = text, fraction = 0.0
        if let dot = text.firstIndex(of: ".") {
            let end = text[dot...].firstIndex { $0 == "Z" || $0 == "+" || $0 == "-" } ?? text.endIndex
            fraction = Double("0" + text[dot..<end]) ?? 0
            whole = String(text[..<dot]) + String(text[end...])
        }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: whole).map { $0.addingTimeInterval(fraction) }
    }

    private static func describe(_ error: any Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, _): "\(key.stringValue) is missing"
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            "\(context.codingPath.map(\.stringValue).joined(separator: ".")) has the wrong type"
        default: "invalid JSON"
        }
    }
}
