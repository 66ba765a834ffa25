import Foundation
import Glibc

/// Every process running as one uid, from /proc, and a way to end them all: removing a site
/// must not depend on its tenant's goodwill (a background process of the site user, started from
/// a php request or an escaped daemon, would otherwise keep `userdel` from removing the user).
package enum UserProcesses {
    /// Pids whose real or effective uid is `uid`.
    package static func pids(of uid: UInt32) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []  // not a tenant path: /proc
        var found: [Int32] = []
        for entry in entries {
            guard let pid = Int32(entry), pid > 1,
                let status = try? String(contentsOfFile: "/proc/\(entry)/status", encoding: .utf8)  // not a tenant path: /proc
            else { continue }
            let lines = status.split(separator: "\n")
            // A zombie is already dead: it waits for its parent, not for us.
            if lines.contains(where: { $0.hasPrefix("State:") && $0.contains("Z") }) { continue }
            guard let line = lines.first(where: { $0.hasPrefix("Uid:") }) else { continue }
            let ids = line.split(whereSeparator: { $0 == "\t" || $0 == " " }).dropFirst().compactMap { UInt32($0) }
            if ids.prefix(2).contains(uid) { found.append(pid) }
        }
        return found
    }

    /// SIGKILLs every process of `uid` until none is left or `deadline` passes (a process may
    /// fork while we kill). Returns how many were left. Never for uid 0.
    @discardableResult
    package static func killAll(of uid: UInt32, within deadline: Duration = .seconds(5)) async -> Int {
        guard uid != 0 else { return 0 }
        let end = ContinuousClock.now + deadline
        while true {
            let pids = pids(of: uid)
            if pids.isEmpty { return 0 }
            for pid in pids { kill(pid, SIGKILL) }
            if ContinuousClock.now >= end { return pids.count }
            try? await Task.sleep(for: .milliseconds(20))
        }
    }
}
