import CHOMAgent
import Foundation
import Glibc

/// What the containment tests look at from outside: processes found by a marker in their
/// command line (a unique `sleep` length), and the run cgroups a site user left behind.
struct ContainmentProbe {
    /// `sleep`'s argument: about 17 minutes, and unique to this probe.
    let marker = "1000.\(UInt32.random(in: 100_000_000...999_999_999))"

    /// Live processes whose command line holds the marker (a zombie has an empty one).
    var survivors: [pid_t] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { pid_t($0) }.filter { Self.commandLine($0).contains(marker) }
    }

    /// Polls until `count` marker processes run (at most ~10 s); returns their pids.
    func waitForRunning(_ count: Int) async -> [pid_t] {
        for _ in 0..<200 {
            let found = survivors
            if found.count >= count { return found }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return survivors
    }

    /// Polls until no marker process is left (at most ~4 s); true when none is.
    func allGone() async -> Bool {
        for _ in 0..<80 {
            if survivors.isEmpty { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return survivors.isEmpty
    }

    /// Clean-up after a failed expectation: nothing of the test outlives it.
    func killSurvivors() {
        for pid in survivors { kill(pid, SIGKILL) }
    }

    static func commandLine(_ pid: pid_t) -> String {
        let fd = open("/proc/\(pid)/cmdline", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return "" }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: 4096)
        let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        return n > 0 ? String(decoding: bytes[0..<n].map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self) : ""
    }

    /// Run cgroup directories named for `owner` under the default bases (v2 and v1).
    static func cgroups(of owner: String) -> [String] {
        let mounts = CgroupMounts.current
        let bases = ([mounts.ownUnified] + mounts.ownV1.values.map { $0 }).compactMap { $0 }
            .map { $0 + "/" + CgroupConfiguration.defaultBaseName }
        return bases.flatMap { base in
            ((try? FileManager.default.contentsOfDirectory(atPath: base)) ?? []).filter { $0.contains("-\(owner)-") }
                .map { base + "/" + $0 }
        }
    }

    /// Polls (at most ~4 s) until `owner` has no run cgroup left.
    static func noCgroups(of owner: String) async -> Bool {
        for _ in 0..<80 {
            if cgroups(of: owner).isEmpty { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return cgroups(of: owner).isEmpty
    }

    /// Clean-up after a failed expectation: kills and removes what `owner` left.
    static func removeCgroups(of owner: String) {
        for directory in cgroups(of: owner) {
            try? "1".write(toFile: directory + "/cgroup.kill", atomically: false, encoding: .utf8)
            rmdir(directory)
        }
        let mounts = CgroupMounts.current
        for own in ([mounts.ownUnified] + mounts.ownV1.values.map { $0 }).compactMap({ $0 }) {
            rmdir(own + "/" + CgroupConfiguration.defaultBaseName)  // only when no other test uses it
        }
    }
}
