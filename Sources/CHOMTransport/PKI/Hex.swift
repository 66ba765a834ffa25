// Hex.swift
// Lowercase hex encoding for fingerprints and serial numbers.

enum Hex {
    private static let digits: [Character] = Array("0123456789abcdef")

    /// Lowercase hex, two digits per byte, no separators.
    static func encode(_ bytes: some Sequence<UInt8>) -> String {
        var out = ""
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return out
    }
}
