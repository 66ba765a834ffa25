@testable import CHOMCoordinator
import CHOMCore
import CHOMStore
import Foundation
import Testing

@Suite("Alertmanager's webhook body, read with bounds; the owners' alert email")
struct AlertmanagerPayloadTests {
    static func body(_ alert: String) -> Data {
        Data(#"{"version":"4","status":"firing","alerts":[\#(alert)]}"#.utf8)
    }

    @Test("RFC 3339 times with 0 to 9 fractional digits and an offset; anything else is refused", arguments: [
        ("2026-12-05T01:02:03Z", 1_796_432_523.0),
        ("2026-12-05T01:02:03.5Z", 1_796_432_523.5),
        ("2026-12-05T01:02:03.123456789Z", 1_796_432_523.123456789),
        ("2026-12-05T02:02:03+01:00", 1_796_432_523.0),
    ])
    func timestamps(text: String, expected: Double) throws {
        let date = try #require(AlertmanagerPayload.timestamp(text))
        #expect(abs(date.timeIntervalSince1970 - expected) < 0.000_001)
    }

    @Test("not times", arguments: ["", "yesterday", "2026-12-05", "2026-12-05 01:02:03Z", "2026-12-05T01:02:03.Z",
        "2026-12-05T01:02:03.1234567891Z", "2026-12-05T01:02:03Z\n"])
    func notTimestamps(text: String) {
        #expect(AlertmanagerPayload.timestamp(text) == nil)
    }

    @Test("a firing alert: Alertmanager's zero end is no end; its fingerprint kept; annotations cut to 4,096 characters")
    func firing() throws {
        let long = String(repeating: "x", count: 5000)
        let payload = try AlertmanagerPayload(Self.body(#"""
            {"status":"firing","labels":{"alertname":"CHOMSiteDown","site":"a.test","tenant":"t"},
             "annotations":{"summary":"down","runbook":"\#(long)"},"startsAt":"2026-12-05T01:02:03Z",
             "endsAt":"0001-01-01T00:00:00Z","fingerprint":"0123456789abcdef"}
            """#))
        let alert = try #require(payload.alerts.first)
        #expect(alert.firing && alert.endsAt == nil && alert.fingerprint == "0123456789abcdef")
        #expect(alert.alertname == "CHOMSiteDown" && alert.summary == "down" && alert.runbook.count == 4096)
        #expect(alert.labels["site"] == "a.test")
    }

    @Test("without a fingerprint (or with one that is not lower-case hex), one is made from the labels, the same for the same labels")
    func madeFingerprint() throws {
        let one = try AlertmanagerPayload(Self.body(#"{"status":"resolved","labels":{"alertname":"A","x":"1"},"startsAt":"2026-12-05T01:02:03Z","fingerprint":"../etc"}"#))
        let two = try AlertmanagerPayload(Self.body(#"{"status":"resolved","labels":{"x":"1","alertname":"A"},"startsAt":"2026-12-05T01:02:03Z"}"#))
        #expect(one.alerts.first?.fingerprint == two.alerts.first?.fingerprint)
        #expect(one.alerts.first?.fingerprint.count == 16 && one.alerts.first?.firing == false)
    }

    @Test("refused: wrong status, a label name Prometheus would not allow, an alertname that could break a header, a huge value, too many labels", arguments: [
        (#"{"status":"pending","labels":{"alertname":"A"},"startsAt":"2026-12-05T01:02:03Z"}"#, "firing or resolved"),
        (#"{"status":"firing","labels":{"alertname":"A","a-b":"1"},"startsAt":"2026-12-05T01:02:03Z"}"#, "label name"),
        (#"{"status":"firing","labels":{"alertname":"A\r\nBcc: x"},"startsAt":"2026-12-05T01:02:03Z"}"#, "alertname"),
        (#"{"status":"firing","labels":{"x":"1"},"startsAt":"2026-12-05T01:02:03Z"}"#, "alertname"),
        (#"{"status":"firing","labels":{"alertname":"A","v":"\#(String(repeating: "v", count: 1025))"},"startsAt":"2026-12-05T01:02:03Z"}"#, "1024 bytes"),
        (#"{"status":"firing","labels":{"alertname":"A"},"startsAt":"soon"}"#, "startsAt"),
        (#"{"status":"firing","labels":{\#((0..<65).map { "\"l\($0)\":\"v\"" }.joined(separator: ",")),"alertname":"A"},"startsAt":"2026-12-05T01:02:03Z"}"#, "more than 64 labels"),
    ])
    func refused(alert: String, words: String) {
        #expect {
            try AlertmanagerPayload(Self.body(alert))
        } throws: { error in
            (error as? CHOMError)?.code == .invalidInput && (error as? CHOMError)?.message.contains(words) == true
        }
    }

    @Test("not a webhook body, another version, over 1,000 alerts")
    func refusedBodies() {
        for (data, words) in [
            (Data("[]".utf8), "not an Alertmanager webhook body"),
            (Data(#"{"version":"5","alerts":[]}"#.utf8), "version 5"),
            (Self.body(Array(repeating: #"{"status":"firing","labels":{"alertname":"A"},"startsAt":"2026-12-05T01:02:03Z"}"#, count: 1001).joined(separator: ",")), "more than 1000"),
        ] {
            #expect {
                try AlertmanagerPayload(data)
            } throws: { error in
                (error as? CHOMError)?.message.contains(words) == true
            }
        }
    }

    @Test("the email: a fixed subject with the alert's name and the site; annotations one line each, control characters gone")
    func notice() {
        let record = AlertRecord(
            id: UUID(), fingerprint: "f", alertname: "CHOMSiteDown", status: "firing", severity: "critical",
            organizationID: OrganizationID(), tenantID: TenantID(), siteID: SiteID(), site: "shop.test", labels: [:],
            summary: "down\r\nBcc: evil@example.com", description: "", runbook: "roll back\u{7}",
            startsAt: Date(timeIntervalSince1970: 1_796_432_523), endsAt: nil, updatedAt: Date())
        let (subject, body) = AlertNoticeText.message(record, .firing)
        #expect(subject == "[CHOM] Firing: CHOMSiteDown on shop.test")
        #expect(body.contains("Summary: down  Bcc: evil@example.com\n") && body.contains("What to do: roll back \n"))
        #expect(!body.unicodeScalars.contains { $0 == "\r" || $0 == "\u{7}" })
        #expect(!body.contains("Details:"))
        #expect(AlertNoticeText.message(record, .resolved).subject == "[CHOM] Resolved: CHOMSiteDown on shop.test")
    }
}
