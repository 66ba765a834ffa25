import CHOMCore
import Crypto
package import Foundation

/// Time-based one-time passwords per RFC 6238 over HOTP (RFC 4226): HMAC-SHA1, 30-second steps,
/// 6 digits, accepting one step either side of now. A step once accepted is never accepted again:
/// the caller stores the step `verify` returns and passes it back as `lastUsedStep`.
package enum TOTP {
    package static let digits = 6
    package static let period: Int64 = 30
    /// Steps accepted either side of the current one.
    package static let window: Int64 = 1
    package static let secretByteCount = 20

    /// A new secret: 20 random bytes (160 bits, as RFC 4226 recommends). Encrypt it at rest.
    package static func generateSecret() -> [UInt8] {
        SymmetricKey(size: SymmetricKeySize(bitCount: secretByteCount * 8)).withUnsafeBytes { Array($0) }
    }

    /// The enrolment URI an authenticator app reads from a QR code:
    /// `otpauth://totp/Issuer:account?secret=…&issuer=…&algorithm=SHA1&digits=6&period=30`.
    package static func otpauthURI(issuer: String, account: String, secret: [UInt8]) -> String {
        let label = percentEncoded(issuer) + ":" + percentEncoded(account)
        return "otpauth://totp/\(label)?secret=\(Base32.encode(secret))&issuer=\(percentEncoded(issuer))"
            + "&algorithm=SHA1&digits=\(digits)&period=\(period)"
    }

    /// The time step of `date`: floor(seconds since the epoch / 30).
    package static func step(at date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 / Double(period)).rounded(.down))
    }

    /// The 6-digit code for `date`.
    package static func code(secret: [UInt8], at date: Date) -> String {
        hotp(secret: secret, counter: UInt64(clamping: step(at: date)), digits: digits)
    }

    /// Checks a presented code against the steps around `date`. Returns the matching step, to be stored
    /// as the new `lastUsedStep`; nil if the input is not exactly 6 ASCII digits, matches no step in the
    /// window, or matches only a step ≤ `lastUsedStep` (a replay, or a code older than one used).
    package static func verify(code: String, secret: [UInt8], at date: Date, lastUsedStep: Int64?) -> Int64? {
        let presented = Array(code.utf8)
        guard presented.count == digits, presented.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") })
        else { return nil }
        let current = step(at: date)
        var matched: Int64?
        // Every step in the window is computed and compared, whatever matched before.
        for candidate in (current - window)...(current + window) where candidate >= 0 {
            let expected = Array(hotp(secret: secret, counter: UInt64(candidate), digits: digits).utf8)
            let fresh = lastUsedStep.map { candidate > $0 } ?? true
            if JoinTokenPolicy.constantTimeEqual(expected, presented), fresh, matched == nil {
                matched = candidate
            }
        }
        return matched
    }

    /// HOTP per RFC 4226 §5.3: HMAC-SHA1 of the big-endian counter, dynamic truncation, `digits` decimal digits.
    package static func hotp(secret: [UInt8], counter: UInt64, digits: Int) -> String {
        precondition((1...9).contains(digits), "HOTP gives 1 to 9 digits")
        let message = withUnsafeBytes(of: counter.bigEndian) { Array($0) }
        let mac = Array(HMAC<Insecure.SHA1>.authenticationCode(for: message, using: SymmetricKey(data: secret)))
        let offset = Int(mac[mac.count - 1] & 0x0F)
        let binary =
            UInt32(mac[offset] & 0x7F) << 24 | UInt32(mac[offset + 1]) << 16 | UInt32(mac[offset + 2]) << 8
            | UInt32(mac[offset + 3])
        var modulus: UInt32 = 1
        for _ in 0..<digits { modulus *= 10 }
        let text = String(binary % modulus)
        return String(repeating: "0", count: digits - text.count) + text
    }

    /// RFC 3986 unreserved characters pass; everything else, `:`, `@`, `/`, `&`, `=` and spaces included,
    /// is percent-encoded from its UTF-8.
    private static func percentEncoded(_ text: String) -> String {
        var output = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                output.append(Character(UnicodeScalar(byte)))
            default:
                output += "%" + String(byte >> 4, radix: 16, uppercase: true) + String(byte & 0xF, radix: 16, uppercase: true)
            }
        }
        return output
    }
}
