import Foundation

/// Short human forms for table cells.
enum Format {
    /// The first 8 characters of an ID, as tables show it.
    static func shortID(_ id: String?) -> String {
        guard let id, !id.isEmpty else { return "-" }
        return String(id.prefix(8))
    }

    static func orDash(_ text: String?) -> String {
        guard let text, !text.isEmpty else { return "-" }
        return text
    }

    /// "12s ago", "5m ago", "3h ago", "2d ago"; "in 5m" for the future; "never" for nil.
    static func relative(_ date: Date?, now: Date = Date()) -> String {
        guard let date else { return "never" }
        let seconds = now.timeIntervalSince(date)
        let span = duration(abs(seconds))
        return seconds >= 0 ? "\(span) ago" : "in \(span)"
    }

    /// 42s, 5m, 3h, 2d.
    static func duration(_ seconds: Double) -> String {
        let whole = Int(seconds.rounded(.down))
        switch whole {
        case ..<60: return "\(whole)s"
        case ..<3600: return "\(whole / 60)m"
        case ..<86_400: return "\(whole / 3600)h"
        default: return "\(whole / 86_400)d"
        }
    }

    /// "3.2 ms", "1250.0 ms": a short span with its fraction.
    static func milliseconds(_ seconds: Double) -> String {
        String(format: "%.1f ms", seconds * 1000)
    }

    /// Binary units with one decimal: "512 B", "1.5 KiB", "15.6 GiB".
    static func bytes<Integer: BinaryInteger>(_ count: Integer) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"]
        var value = Double(count)
        var unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(Int(count)) B" : String(format: "%.1f", value) + " " + units[unit]
    }

    static func load(_ value: Double) -> String {
        String(format: "%.2f", value)
    }

    /// ISO-8601 UTC with the relative form, for `show` views: "2025-11-26T17:27:00Z (5m ago)".
    static func timestamp(_ date: Date?, now: Date = Date()) -> String {
        guard let date else { return "-" }
        return "\(date.formatted(.iso8601)) (\(relative(date, now: now)))"
    }
}
