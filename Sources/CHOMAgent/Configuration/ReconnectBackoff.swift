/// Exponential backoff with full jitter (AWS architecture blog, "Exponential Backoff And
/// Jitter"): attempt n waits a uniformly random time in [0, min(max, min · 2ⁿ)], never less
/// than a small floor so a flapping coordinator is not hammered. Pure value type.
package struct ReconnectBackoff: Sendable {
    package let minimum: Duration
    package let maximum: Duration
    package private(set) var attempt: Int = 0

    package init(minimum: Duration, maximum: Duration) {
        self.minimum = minimum
        self.maximum = max(minimum, maximum)
    }

    package init(_ configuration: AgentConfiguration.Reconnect) {
        self.init(minimum: configuration.minimumDelay, maximum: configuration.maximumDelay)
    }

    /// The ceiling for the current attempt: min(max, min · 2^attempt).
    package var ceiling: Duration {
        let factor = 1 << min(attempt, 30)
        let grown = minimum * factor
        return min(grown, maximum)
    }

    /// The delay before the next attempt; advances the attempt counter.
    package mutating func nextDelay(using generator: inout some RandomNumberGenerator) -> Duration {
        let ceilingSeconds = Self.seconds(ceiling)
        let floorSeconds = Self.seconds(minimum) / 4
        let chosen = Double.random(in: 0...ceilingSeconds, using: &generator)
        attempt += 1
        return .milliseconds(Int64((max(floorSeconds, chosen) * 1000).rounded()))
    }

    package mutating func nextDelay() -> Duration {
        var generator = SystemRandomNumberGenerator()
        return nextDelay(using: &generator)
    }

    /// After a stream that stayed up: start again from the minimum.
    package mutating func reset() {
        attempt = 0
    }

    private static func seconds(_ duration: Duration) -> Double {
        let parts = duration.components
        return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
    }
}
