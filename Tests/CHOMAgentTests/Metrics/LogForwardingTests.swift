@testable import CHOMAgent
import Foundation
import Prometheus
import Testing

@Suite("Log forwarding: RFC 5424 messages, octet-counted framing, a bounded buffer that counts its drops")
struct LogForwardingTests {
    static let time = Date(timeIntervalSince1970: 1_796_443_200.25)  // 2026-12-05T04:00:00.250Z

    func message(_ kind: SyslogMessage.Kind = .access, failed: Bool = false, text: String = "GET / 200") -> SyslogMessage {
        SyslogMessage(
            kind: kind, site: "shop.example", tenant: "t-1", agent: "a-1", hostname: "vps 1", time: Self.time,
            failed: failed, text: text)
    }

    @Test("header, structured data and message as RFC 5424 has them; severity by kind and outcome")
    func format() {
        #expect(message().formatted
            == #"<134>1 2026-12-05T04:00:00.250Z vps1 chom-agent - access [chom@32473 site="shop.example" tenant="t-1" agent="a-1"] GET / 200"#)
        #expect(message(.error).formatted.hasPrefix("<132>1 "))
        #expect(message(.task).formatted.hasPrefix("<134>1 ") && message(.task, failed: true).formatted.hasPrefix("<131>1 "))
    }

    @Test("a line cannot add a message or structured data: control characters become spaces, values are escaped")
    func hostileText() {
        let forged = message(text: "GET /\n<134>1 - - - - [chom@32473 site=\"other\"] x\r\u{7f}")
        #expect(!forged.formatted.contains("\n") && !forged.formatted.contains("\r") && !forged.formatted.contains("\u{7f}"))
        var odd = message()
        odd.site = #"a"] [x@1 y="z\"#
        #expect(odd.formatted.contains(#"site="a\"\] [x@1 y=\"z\\" "#))
        // However long the line, the message fits the 2048 bytes every receiver takes whole, so no
        // receiver splits it and reads its tail as a forged message.
        for text in [String(repeating: "é", count: 10_000), String(repeating: "a", count: 9_000) + "<10>1 - mailhost sshd"] {
            let long = message(text: text)
            #expect(long.formatted.utf8.count <= SyslogMessage.maximumMessageBytes)
            #expect(long.formatted.hasPrefix("<134>1 ") && !long.formatted.contains("mailhost"))
        }
        // C1 controls and line separators are spaces; a quote before a combining mark is escaped.
        #expect(!message(text: "a\u{85}b\u{2028}c\u{9b}d").formatted.contains { ["\u{85}", "\u{2028}", "\u{9b}"].contains($0) })
        var combining = message()
        combining.tenant = "t\"\u{301}x"
        #expect(combining.formatted.contains("tenant=\"t\\\"\u{301}x\""))
    }

    @Test("the frame is the message's length in bytes (UTF-8), a space, the message")
    func framing() {
        let text = message(text: "GET /café 200").formatted
        let framed = message(text: "GET /café 200").framed
        #expect(framed == Array("\(text.utf8.count) \(text)".utf8))
    }

    @Test("a full buffer drops its oldest messages and counts them; take hands them out in order")
    func buffer() {
        let registry = PrometheusCollectorRegistry()
        let buffer = LogForwardBuffer(capacity: 3, registry: registry)
        for index in 0..<5 { buffer.append(message(text: "line \(index)")) }
        #expect(buffer.count == 3)
        let taken = buffer.take(2)
        #expect(taken == [message(text: "line 2").framed, message(text: "line 3").framed])
        buffer.sent(taken.count)
        #expect(buffer.take(10) == [message(text: "line 4").framed] && buffer.count == 0)
        var output = [UInt8]()
        registry.emit(into: &output)
        let text = String(decoding: output, as: UTF8.self)
        #expect(text.contains(#"chom_agent_log_forward_lines_total{result="dropped"} 2"#), "\(text)")
        #expect(text.contains(#"chom_agent_log_forward_lines_total{result="sent"} 2"#), "\(text)")
    }
}
