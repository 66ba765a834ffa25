#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// One ratio of a benchmark, for `chom-bench all`'s closing table. Each benchmark still prints
/// its own table; when `CHOM_BENCH_SUMMARY` names a file (as `all` sets it for its children), it
/// also appends its ratios there, one JSON line each.
struct BenchRatio: Codable, Sendable {
    /// The benchmark that measured it (`backup`, `agent`, …).
    var bench: String
    var measure: String
    /// CHOM's figure and the peer's, as printed (with units).
    var chom: String
    var peer: String
    /// CHOM / peer (or the figure against its goal when there is no peer); nil when not measured.
    var ratio: Double?
    /// The goal, as the issue states it ("≤ 1.1×", "≥ 5,000/s"), or "" for a figure without one.
    var goal: String
    /// Whether the goal is met; nil without a goal.
    var met: Bool?
}

enum BenchSummary {
    static let environmentKey = "CHOM_BENCH_SUMMARY"

    /// Appends `ratio` to the summary file, if one is set. A failure to write is reported, never fatal.
    static func record(_ ratio: BenchRatio) {
        guard let path = ProcessInfo.processInfo.environment[environmentKey], !path.isEmpty else { return }
        record(ratio, to: path)
    }

    static func record(_ ratio: BenchRatio, to path: String) {
        guard var line = try? JSONEncoder().encode(ratio) else { return }
        line.append(0x0A)
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            FileHandle.standardError.write(Data("chom-bench: cannot append to \(path): errno \(errno)\n".utf8))
            return
        }
        defer { close(fd) }
        _ = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    }

    /// A ratio whose goal is an upper bound on CHOM / peer (`≤ bound×`).
    static func atMost(
        _ bench: String, _ measure: String, chom: String, peer: String, ratio: Double?, bound: Double
    ) {
        record(BenchRatio(
            bench: bench, measure: measure, chom: chom, peer: peer, ratio: ratio,
            goal: "≤ \(String(format: "%.1f", bound))×", met: ratio.map { $0 <= bound }))
    }

    /// A ratio whose goal is a lower bound on CHOM / peer (`≥ bound×`).
    static func atLeast(
        _ bench: String, _ measure: String, chom: String, peer: String, ratio: Double?, bound: Double
    ) {
        record(BenchRatio(
            bench: bench, measure: measure, chom: chom, peer: peer, ratio: ratio,
            goal: "≥ \(String(format: "%.1f", bound))×", met: ratio.map { $0 >= bound }))
    }

    /// Reads a summary file back (lines that do not parse are skipped).
    static func read(_ path: String) -> [BenchRatio] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { try? JSONDecoder().decode(BenchRatio.self, from: Data($0.utf8)) }
    }

    /// The closing table: every ratio in the order measured, as Markdown.
    static func table(_ ratios: [BenchRatio]) -> String {
        var lines = ["| bench | measure | CHOM | peer | ratio | goal | met |", "|---|---|---|---|---|---|---|"]
        // A `|` inside a cell ("tar | zstd -3") would split it: Markdown's escape.
        func cell(_ text: String) -> String { text.replacingOccurrences(of: "|", with: "\\|") }
        for r in ratios {
            let ratio = r.ratio.map { String(format: "%.2f", $0) } ?? "-"
            let met = r.met.map { $0 ? "yes" : "**no**" } ?? "-"
            lines.append(
                "| \(r.bench) | \(cell(r.measure)) | \(cell(r.chom)) | \(cell(r.peer)) | \(ratio) | \(r.goal.isEmpty ? "-" : r.goal) | \(met) |")
        }
        return lines.joined(separator: "\n")
    }
}
