import CHOMCore
import Foundation

/// The text encodings the security building blocks write and read: base64url without
/// padding (sealed secrets), standard base64 (key configuration) and lowercase hex (hashes).
/// Decoders are strict and answer nil rather than guess.
enum SecurityCoding {
    /// base64url (RFC 4648 §5) without padding.
    static func base64URL(_ bytes: some Sequence<UInt8>) -> String {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// Decodes unpadded base64url; nil for any other character, an impossible length or
    /// non-canonical trailing bits, so that each byte string has exactly one text.
    static func bytes(base64URL text: some StringProtocol) -> Data? {
        guard text.utf8.allSatisfy(isBase64URLByte), text.utf8.count % 4 != 1 else { return nil }
        var standard = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        standard += String(repeating: "=", count: (4 - standard.utf8.count % 4) % 4)
        guard let data = Data(base64Encoded: standard), base64URL(data) == text else { return nil }
        return data
    }

    /// Decodes standard or url-safe base64, padded or not (as operators paste keys).
    static func bytes(base64 text: some StringProtocol) -> Data? {
        var unpadded = String(text)[...]
        if unpadded.hasSuffix("==") { unpadded = unpadded.dropLast(2) } else if unpadded.hasSuffix("=") { unpadded = unpadded.dropLast() }
        let urlSafe = unpadded.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        return bytes(base64URL: urlSafe)
    }

    private static func isBase64URLByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"):
            true
        default: false
        }
    }
}
