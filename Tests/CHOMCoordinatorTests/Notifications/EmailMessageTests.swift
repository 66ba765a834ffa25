import CHOMCore
@testable import CHOMCoordinator
import Foundation
import Testing

@Suite("Email messages: no header injection, base64 UTF-8 bodies, encoded subjects")
struct EmailMessageTests {
    let date = Date(timeIntervalSince1970: 1_794_824_400)

    func message(from: String = "billing@chom.test", to: String = "owner@example.com", subject: String = "Hello")
        throws -> EmailMessage
    {
        try EmailMessage(from: from, to: to, subject: subject, body: "Grüße\n.\nline", date: date, messageID: "id-1@chom")
    }

    @Test("a CR or LF in the subject, or an address SMTP could be broken with, is refused")
    func injection() {
        #expect(throws: CHOMError.self) { try message(subject: "Hi\r\nBcc: victim@example.com") }
        #expect(throws: CHOMError.self) { try message(subject: "Hi\nX: y") }
        for address in ["a@b\r\nRCPT TO:<x@y>", "a b@c.d", "<a@b.c>", "a@b.c>", "no-at-sign", "", "a@-b.c"] {
            #expect(throws: CHOMError.self, "\(address)") { try message(to: address) }
            #expect(throws: CHOMError.self, "\(address)") { try message(from: address) }
        }
    }

    @Test("DATA has the headers, CRLF lines, a base64 body no line of which starts with a dot")
    func data() throws {
        let data = try message(subject: "Paiement échoué").data
        let lines = data.components(separatedBy: "\r\n")
        #expect(lines.contains("From: billing@chom.test"))
        #expect(lines.contains("To: owner@example.com"))
        #expect(lines.contains("Date: Mon, 16 Nov 2026 10:20:00 +0000"))
        #expect(lines.contains("Message-ID: <id-1@chom>"))
        #expect(lines.contains("Subject: =?utf-8?B?\(Data("Paiement échoué".utf8).base64EncodedString())?="))
        #expect(!data.replacingOccurrences(of: "\r\n", with: "").contains("\n"))
        let blank = try #require(lines.firstIndex(of: ""))
        let body = lines[(blank + 1)...].joined()
        #expect(String(data: try #require(Data(base64Encoded: body)), encoding: .utf8) == "Grüße\n.\nline")
        #expect(lines.allSatisfy { !$0.hasPrefix(".") && $0.count <= 998 })
    }

    @Test("billing notices name the organization on a line of its own, without its control characters")
    func noticeText() {
        let (subject, body) = BillingNoticeText.message(
            .paymentFailed(graceEndsAt: date), organization: "Acme\r\nBcc: x@y.z")
        #expect(subject == "[CHOM] Payment failed: action needed")
        #expect(body.contains("  AcmeBcc: x@y.z\n"))
        #expect(body.contains("2026-11-16T10:20:00Z"))
        #expect(BillingNoticeText.event(.suspended).rawValue == "billing.suspended")
    }
}
