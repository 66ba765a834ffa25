/// Fixed-width base62 (`0-9A-Za-z`) of big-endian unsigned integers, for API tokens.
///
/// Each width is the shortest that holds every value of the byte count (16 bytes → 22 characters,
/// 32 → 43, 4 → 6); decoding refuses a value that does not fit, so every byte string has exactly one
/// encoding and every accepted encoding re-encodes to itself.
package enum Base62 {
    package static let alphabet: [UInt8] = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)

    /// The number of characters needed for `byteCount` bytes.
    package static func width(forByteCount byteCount: Int) -> Int {
        // ceil(8 * n / log2(62)), computed exactly: the smallest w with 62^w ≥ 256^n.
        var width = 0
        var capacity: [UInt8] = [1]  // 62^width, little-endian base 256
        while capacity.count <= byteCount {
            capacity = multiply(capacity, by: 62, adding: 0)
            width += 1
        }
        return width
    }

    /// Encodes big-endian `bytes` in exactly `width(forByteCount: bytes.count)` characters, zero-padded.
    package static func encode(_ bytes: [UInt8]) -> String {
        let width = width(forByteCount: bytes.count)
        var number = bytes
        var digits = [UInt8](repeating: alphabet[0], count: width)
        var position = width
        while number.contains(where: { $0 != 0 }) {
            var remainder = 0
            for index in number.indices {
                let value = remainder << 8 | Int(number[index])
                number[index] = UInt8(value / 62)
                remainder = value % 62
            }
            position -= 1
            digits[position] = alphabet[remainder]
        }
        return String(decoding: digits, as: UTF8.self)
    }

    /// Decodes `text` (exactly the width for `byteCount`) into `byteCount` big-endian bytes;
    /// nil for a wrong length, a character outside the alphabet, or a value that does not fit.
    package static func decode(_ text: some StringProtocol, byteCount: Int) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard utf8.count == width(forByteCount: byteCount) else { return nil }
        var littleEndian: [UInt8] = [0]
        for character in utf8 {
            guard let digit = value(of: character) else { return nil }
            littleEndian = multiply(littleEndian, by: 62, adding: digit)
            if littleEndian.count > byteCount { return nil }
        }
        let padded = littleEndian + [UInt8](repeating: 0, count: byteCount - littleEndian.count)
        return padded.reversed()
    }

    /// The value of one alphabet character, nil outside it.
    package static func value(of character: UInt8) -> Int? {
        switch character {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): Int(character - UInt8(ascii: "0"))
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): Int(character - UInt8(ascii: "A")) + 10
        case UInt8(ascii: "a")...UInt8(ascii: "z"): Int(character - UInt8(ascii: "a")) + 36
        default: nil
        }
    }

    /// `number * factor + addend` on a little-endian base-256 number, trimmed of high zero bytes (keeps one).
    private static func multiply(_ number: [UInt8], by factor: Int, adding addend: Int) -> [UInt8] {
        var result = [UInt8]()
        result.reserveCapacity(number.count + 1)
        var carry = addend
        for byte in number {
            let value = Int(byte) * factor + carry
            result.append(UInt8(value & 0xFF))
            carry = value >> 8
        }
        while carry > 0 {
            result.append(UInt8(carry & 0xFF))
            carry >>= 8
        }
        while result.count > 1, result.last == 0 { result.removeLast() }
        return result
    }
}
