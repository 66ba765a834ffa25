import Crypto
import Foundation

/// Stripe's webhook signature scheme, which CHOM both checks (Stripe's `Stripe-Signature`, as
/// Stripe's libraries do) and sends (its own webhooks' `CHOM-Signature`). The header is
/// `t=<unix seconds>,v1=<hex>[,v1=<hex>…]` (other schemes, such as `v0`, are ignored); a payload is
/// genuine when one `v1` equals HMAC-SHA256(secret, "<t>.<raw body>"), compared in constant time,
/// and `t` is within `tolerance` seconds of now (either side). Pure.
enum WebhookSignature {
    enum Failure: Error, Equatable, CustomStringConvertible {
        case malformedHeader
        case noSignature
        case staleTimestamp
        case mismatch

        var description: String {
            switch self {
            case .malformedHeader: "the signature header is missing or malformed"
            case .noSignature: "the signature header has no v1 signature"
            case .staleTimestamp: "the signature timestamp is outside the tolerance"
            case .mismatch: "no v1 signature matches the payload"
            }
        }
    }

    static let defaultTolerance: TimeInterval = 300

    static func verify(
        payload: Data, header: String?, secret: String, now: Date, tolerance: TimeInterval = defaultTolerance
    ) throws(Failure) {
        guard let header, header.utf8.count <= 4_096 else { throw .malformedHeader }
        var timestamp: Int64?
        var signatures: [Data] = []
        for item in header.split(separator: ",") {
            let pair = item.split(separator: "=", maxSplits: 1)
            guard pair.count == 2 else { throw .malformedHeader }
            let key = pair[0].trimmingCharacters(in: .whitespaces)
            let value = pair[1].trimmingCharacters(in: .whitespaces)
            switch key {
            case "t":
                guard timestamp == nil, let seconds = Int64(value) else { throw .malformedHeader }
                timestamp = seconds
            case "v1":
                // A value that is not 64 hex digits can never match: skipped, like Stripe's libraries.
                if let bytes = hex(value), bytes.count == 32 { signatures.append(bytes) }
            default:
                continue
            }
        }
        guard let timestamp else { throw .malformedHeader }
        guard !signatures.isEmpty else { throw .noSignature }
        guard abs(now.timeIntervalSince1970 - Double(timestamp)) <= tolerance else { throw .staleTimestamp }
        let expected = Data(sign(payload: payload, timestamp: timestamp, secret: secret))
        // Every candidate is compared, in constant time each.
        var matched = false
        for signature in signatures where constantTimeEqual(signature, expected) { matched = true }
        guard matched else { throw .mismatch }
    }

    /// HMAC-SHA256(secret, "<timestamp>.<payload>").
    static func sign(payload: Data, timestamp: Int64, secret: String) -> [UInt8] {
        var message = Data("\(timestamp).".utf8)
        message.append(payload)
        let code = HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: Data(secret.utf8)))
        return Array(code)
    }

    /// The header for `payload`: what CHOM sends with a webhook, and what Stripe would send (tests).
    static func header(payload: Data, timestamp: Int64, secret: String) -> String {
        "t=\(timestamp),v1=\(sign(payload: payload, timestamp: timestamp, secret: secret).map { String(format: "%02x", $0) }.joined())"
    }

    private static func constantTimeEqual(_ a: Data, _ b: Data) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for (x, y) in zip(a, b) { difference |= x ^ y }
        return difference == 0
    }

    private static func hex(_ text: String) -> Data? {
        let digits = Array(text.utf8)
        guard digits.count.isMultiple(of: 2) else { return nil }
        var bytes = Data(capacity: digits.count / 2)
        var index = 0
        while index < digits.count {
            guard let high = nibble(digits[index]), let low = nibble(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
