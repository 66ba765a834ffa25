import CHOMCore
import Crypto
import Foundation

/// Ten single-use recovery codes for when the authenticator is lost: `xxxx-xxxx-xxxx`, 12 lowercase
/// base32 characters carrying 60 random bits. Shown once; only SHA-256 of each normalized code is stored.
package enum RecoveryCodes {
    package static let count = 10
    package static let characters = 12
    package static let groupLength = 4

    package struct Issued: Sendable {
        /// Shown to the user once, never stored.
        package var codes: [String]
        /// Stored, in the same order.
        package var hashes: [[UInt8]]
    }

    /// A fresh set of distinct codes and their hashes.
    package static func generate() -> Issued {
        var codes = [String]()
        while codes.count < count {
            let random = SymmetricKey(size: SymmetricKeySize(bitCount: 64)).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
            let code = format(random & ((1 << 60) - 1))
            if !codes.contains(code) { codes.append(code) }
        }
        return Issued(codes: codes, hashes: codes.map { hash(normalized: normalize($0) ?? "") })
    }

    /// Uses up a presented code: the stored hashes without the matching one, or nil if the code is
    /// malformed or matches none. Every stored hash is compared, in constant time, whatever matched.
    package static func consume(_ code: String, hashes: [[UInt8]]) -> [[UInt8]]? {
        guard let normalized = normalize(code) else { return nil }
        let presented = hash(normalized: normalized)
        var matchedIndex: Int?
        for (index, stored) in hashes.enumerated() {
            if JoinTokenPolicy.constantTimeEqual(stored, presented), matchedIndex == nil {
                matchedIndex = index
            }
        }
        guard let matchedIndex else { return nil }
        var remaining = hashes
        remaining.remove(at: matchedIndex)
        return remaining
    }

    /// The canonical form that is hashed: 12 lowercase base32 characters. Case, dashes and spaces
    /// as the user typed them do not matter; anything else makes the code malformed (nil).
    package static func normalize(_ code: String) -> String? {
        var output = [UInt8]()
        for byte in code.utf8 {
            if byte == UInt8(ascii: "-") || byte == UInt8(ascii: " ") { continue }
            guard let value = Base32.value(of: byte) else { return nil }
            output.append(Base32.alphabet[Int(value)] | 0x20)  // lowercase (digits 2–7 already are)
        }
        guard output.count == characters else { return nil }
        return String(decoding: output, as: UTF8.self)
    }

    /// 60 bits as `xxxx-xxxx-xxxx`, most significant 5 bits first.
    static func format(_ bits: UInt64) -> String {
        var output = [UInt8]()
        for index in 0..<characters {
            if index > 0, index % groupLength == 0 { output.append(UInt8(ascii: "-")) }
            let value = Int(bits >> UInt64(5 * (characters - 1 - index)) & 31)
            output.append(Base32.alphabet[value] | 0x20)
        }
        return String(decoding: output, as: UTF8.self)
    }

    private static func hash(normalized: String) -> [UInt8] {
        Array(SHA256.hash(data: Data(normalized.utf8)))
    }
}
