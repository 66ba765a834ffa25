/// A W3C Trace Context `traceparent` (https://www.w3.org/TR/trace-context/#traceparent-header):
///
///     00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01
///     version-trace id (16 bytes)-parent id (8 bytes)-flags
///
/// The admin API accepts one per request (or starts a trace), answers with its own span's, stores
/// it with every task the request queues; the envelope header carries it to the agent, whose log
/// lines for that task carry the trace id. Parsing follows the specification strictly: lowercase
/// hex, neither id all zeros, version `ff` refused, and a later version read by its version-00
/// prefix. Anything else is not a trace context, and a new trace is started instead.
///
/// Pure: no clock, no I/O. `random` takes its bytes from the system generator.
package struct TraceParent: Sendable, Hashable, CustomStringConvertible {
    /// 32 lowercase hex digits.
    package let traceID: String
    /// 16 lowercase hex digits: the span this context was sent from.
    package let spanID: String
    /// Trace flags; bit 0 is "sampled".
    package let flags: UInt8

    /// The header's longest accepted length: a later version may append fields, but a header of
    /// more than this is refused rather than stored.
    package static let maximumLength = 256

    /// Parses a `traceparent` header value; nil when it is not a valid one.
    package init?(header: some StringProtocol) {
        let bytes = Array(header.utf8)
        guard bytes.count >= 55, bytes.count <= Self.maximumLength else { return nil }
        guard let version = Self.hexValue(bytes[0..<2]), version != 0xFF else { return nil }
        guard bytes[2] == UInt8(ascii: "-"), bytes[35] == UInt8(ascii: "-"), bytes[52] == UInt8(ascii: "-") else {
            return nil
        }
        // Version 00 is exactly 55 characters; a later one may go on after a dash.
        if version == 0 { guard bytes.count == 55 else { return nil } }
        else if bytes.count > 55, bytes[55] != UInt8(ascii: "-") { return nil }
        let trace = bytes[3..<35], span = bytes[36..<52]
        guard Self.isLowerHex(trace), Self.isLowerHex(span), let flags = Self.hexValue(bytes[53..<55]) else { return nil }
        guard trace.contains(where: { $0 != UInt8(ascii: "0") }), span.contains(where: { $0 != UInt8(ascii: "0") }) else {
            return nil
        }
        self.traceID = String(decoding: trace, as: UTF8.self)
        self.spanID = String(decoding: span, as: UTF8.self)
        self.flags = flags
    }

    private init(traceID: String, spanID: String, flags: UInt8) {
        self.traceID = traceID
        self.spanID = spanID
        self.flags = flags
    }

    /// A new trace, sampled, with a random trace id and span id.
    package static func random() -> TraceParent {
        var generator = SystemRandomNumberGenerator()
        return TraceParent(traceID: randomID(bytes: 16, using: &generator), spanID: randomID(bytes: 8, using: &generator), flags: 0x01)
    }

    /// A span of the same trace, its parent being this one: a new span id, the sampled flag kept.
    package func child() -> TraceParent {
        var generator = SystemRandomNumberGenerator()
        return TraceParent(traceID: traceID, spanID: Self.randomID(bytes: 8, using: &generator), flags: flags & 0x01)
    }

    /// The header value, always version 00.
    package var description: String {
        "00-\(traceID)-\(spanID)-\(Hex.encode([flags]))"
    }

    private static func randomID(bytes count: Int, using generator: inout some RandomNumberGenerator) -> String {
        while true {
            let bytes = (0..<count).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
            if bytes.contains(where: { $0 != 0 }) { return Hex.encode(bytes) }
        }
    }

    private static func isLowerHex(_ bytes: ArraySlice<UInt8>) -> Bool {
        bytes.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains($0) }
    }

    private static func hexValue(_ bytes: ArraySlice<UInt8>) -> UInt8? {
        guard isLowerHex(bytes) else { return nil }
        return Hex.decode(String(decoding: bytes, as: UTF8.self))?.first
    }
}
