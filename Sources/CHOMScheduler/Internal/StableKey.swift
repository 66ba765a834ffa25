package import CHOMCore

/// Keys that are the same in every process, for tie-breaks and the sampling order: Swift's
/// `Hasher` is seeded per process, and dictionary or set order follows it.
package enum StableKey {
    /// An identifier's 16 UUID bytes as two big-endian words: ordering by them is ordering by
    /// the lowercase text form.
    package static func words<Tag>(_ id: Identifier<Tag>) -> (UInt64, UInt64) {
        if MemoryLayout<Identifier<Tag>>.size == 16, _isPOD(Identifier<Tag>.self) {
            return withUnsafeBytes(of: id) { raw in
                var high: UInt64 = 0, low: UInt64 = 0
                for index in 0..<8 { high = high << 8 | UInt64(raw[index]) }
                for index in 8..<16 { low = low << 8 | UInt64(raw[index]) }
                return (high, low)
            }
        }
        // Not reached with today's UUID; the text form gives the same order, only slower.
        var high: UInt64 = 0, low: UInt64 = 0, count = 0
        for character in id.description.utf8 where character != UInt8(ascii: "-") {
            let nibble = UInt64(character <= UInt8(ascii: "9") ? character - UInt8(ascii: "0") : character - UInt8(ascii: "a") + 10)
            if count < 16 { high = high << 4 | nibble } else { low = low << 4 | nibble }
            count += 1
        }
        return (high, low)
    }

    package static func less<Tag>(_ lhs: Identifier<Tag>, _ rhs: Identifier<Tag>) -> Bool {
        let a = words(lhs), b = words(rhs)
        return a.0 != b.0 ? a.0 < b.0 : a.1 < b.1
    }

    /// A 64-bit mix of an identifier (splitmix64 finalizer over both words).
    package static func hash<Tag>(_ id: Identifier<Tag>) -> UInt64 {
        let (high, low) = words(id)
        return mix(mix(high) ^ low)
    }

    static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Visits 0..<count once each in a pseudo-random order fixed by a seed: a start and a stride
/// coprime with count. Cheap (no array), so a sampled placement costs the same in any fleet.
struct SamplingOrder {
    private var position: Int
    private let stride: Int
    private let count: Int

    init(seed: UInt64, count: Int) {
        precondition(count > 0)
        self.count = count
        position = Int(seed % UInt64(count))
        guard count > 1 else {
            stride = 0
            return
        }
        var stride = Int((seed >> 32) % UInt64(count - 1)) + 1
        while Self.gcd(stride, count) != 1 { stride = stride % (count - 1) + 1 }
        self.stride = stride
    }

    mutating func next() -> Int {
        let current = position
        position += stride
        if position >= count { position -= count }
        return current
    }

    private static func gcd(_ a: Int, _ b: Int) -> Int {
        var (a, b) = (a, b)
        while b != 0 { (a, b) = (b, a % b) }
        return a
    }
}
