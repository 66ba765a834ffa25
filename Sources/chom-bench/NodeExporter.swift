import CHOMTesting
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// prometheus-node-exporter (Debian), the agent's peer: a process of its own on a free loopback port,
/// default collectors.
struct NodeExporter {
    let binary: String
    let pid: pid_t
    let port: Int

    var url: String { "http://127.0.0.1:\(port)/metrics" }

    static var binary: String? {
        ["/usr/bin/prometheus-node-exporter", "/usr/local/bin/node_exporter"].first {
            FileManager.default.isExecutableFile(atPath: $0)
        } ?? ChildProcess.which("node_exporter")
    }

    static func start(binary: String, work: URL) async throws -> NodeExporter {
        let port = try FreePort.next()
        let pid = try BackgroundServer.spawn(
            binary, ["--web.listen-address=127.0.0.1:\(port)"], log: work.appendingPathComponent("node_exporter.log").path)
        do {
            try await TCPProbe.waitUntilListening(port: port, within: .seconds(15), what: "node_exporter")
        } catch {
            kill(pid, SIGKILL)
            throw error
        }
        return NodeExporter(binary: binary, pid: pid, port: port)
    }

    func stop() {
        kill(pid, SIGTERM)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
    }
}

/// A process's memory from /proc.
enum ProcMemory {
    /// VmRSS in MB (10^6 bytes).
    static func rssMB(_ pid: pid_t) -> Double {
        let status = read("/proc/\(pid)/status")
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
            let kib = Double(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
        else { return 0 }
        return kib * 1024 / 1e6
    }

    /// A /proc file read to its end (they report a size of 0, so a read by size gets a prefix).
    static func read(_ path: String) -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else { return "" }
        defer { try? handle.close() }
        return String(decoding: (try? handle.readToEnd()) ?? Data(), as: UTF8.self)
    }

    /// Resident memory by mapping from /proc/PID/smaps: the heap, other anonymous memory (thread
    /// stacks, malloc arenas, the runtime's), and each file (the binary, each library), largest
    /// first, with /proc/PID/smaps_rollup's totals.
    static func breakdown(_ pid: pid_t) -> String {
        let smaps = read("/proc/\(pid)/smaps")
        guard !smaps.isEmpty else { return "  (no smaps)" }
        var resident: [String: Int] = [:]
        var current = "?"
        for line in smaps.split(separator: "\n") {
            if let first = line.first, first.isHexDigit, line.contains("-") {
                let fields = line.split(separator: " ", omittingEmptySubsequences: true)
                current = fields.count >= 6 ? String(fields[5...].joined(separator: " ")) : "[anonymous]"
                if current.hasPrefix("/") { current = String(current.split(separator: "/").last ?? Substring(current)) }
            } else if line.hasPrefix("Rss:") {
                let kib = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? 0
                resident[current, default: 0] += kib
            }
        }
        var lines = resident.sorted { $0.value > $1.value }.prefix(12).map {
            "  \(BackupBench.pad($0.key, 40)) \(BackupBench.lpad(String(format: "%.1f", Double($0.value) * 1024 / 1e6), 7)) MB"
        }
        if case let rollup = read("/proc/\(pid)/smaps_rollup"), !rollup.isEmpty {
            let keys = ["Rss:", "Pss:", "Shared_Clean:", "Private_Clean:", "Private_Dirty:", "Anonymous:"]
            let totals = rollup.split(separator: "\n").filter { line in keys.contains { line.hasPrefix($0) } }
                .map { $0.split(separator: " ", omittingEmptySubsequences: true).prefix(2).joined(separator: " ") }
            lines.append("  smaps_rollup: " + totals.joined(separator: ", ") + " (kB)")
        }
        return lines.joined(separator: "\n")
    }
}
