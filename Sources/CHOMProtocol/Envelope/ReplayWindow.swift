/// Anti-replay state for envelope sequences, as IPsec does it: the highest
/// accepted sequence plus a bitmap of the 64 before it. A sequence above the
/// highest is new; one inside the window is new only if its bit is clear; one
/// below the window is stale. Pure value type; the agent persists it.
package struct ReplayWindow: Sendable, Equatable, Codable {
    package static let width: UInt64 = 64

    package private(set) var highest: UInt64
    /// Bit i set ⇔ sequence (highest - i) was accepted. Bit 0 is `highest` itself.
    package private(set) var bitmap: UInt64

    package init(highest: UInt64 = 0, bitmap: UInt64 = 0) {
        self.highest = highest
        self.bitmap = bitmap
    }

    package enum Verdict: Equatable, Sendable {
        case fresh
        case replayed
        case stale
    }

    package func check(_ sequence: UInt64) -> Verdict {
        if sequence == 0 { return .stale }
        if sequence > highest { return .fresh }
        let offset = highest - sequence
        if offset >= Self.width { return .stale }
        return bitmap & (1 << offset) != 0 ? .replayed : .fresh
    }

    /// Records an accepted sequence. Call only after `check` said `.fresh`.
    package mutating func accept(_ sequence: UInt64) {
        if sequence > highest {
            let shift = sequence - highest
            bitmap = shift >= Self.width ? 0 : bitmap << shift
            bitmap |= 1
            highest = sequence
        } else {
            let offset = highest - sequence
            if offset < Self.width { bitmap |= 1 << offset }
        }
    }
}
