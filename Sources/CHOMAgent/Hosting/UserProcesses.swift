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

    /// Ends every process of the account: a process running *as* the site user calls
    /// `kill(-1, SIGKILL)` until nothing is left to signal (the kernel walks the process table
    /// itself, so a process that forks and exits in a loop cannot hide between a listing and a
    /// kill, as it could from a /proc scan), then we wait until /proc shows none alive. Returns
    /// how many were still alive at the deadline. Never for uid 0.
    @discardableResult
    package static func killAll(of account: SiteAccount, within deadline: Duration = .seconds(10)) async -> Int {
        guard account.uid != 0, account.gid != 0 else { return 0 }
        let end = ContinuousClock.now + deadline
        // Bounded: zombies (dead, waiting for their parent) still count as signalled.
        let script = "i=0; while [ $i -lt 2000 ] && kill -9 -1 2>/dev/null; do i=$((i+1)); done"
        func pass() async {
            _ = try? await CommandRunner().run(CommandRunner.Command(
                "/usr/bin/setpriv",
                ["--reuid=\(account.uid)", "--regid=\(account.gid)", "--clear-groups", "--no-new-privs", "--", "/bin/sh", "-c", script],
                workingDirectory: "/", timeout: max(end - ContinuousClock.now, .milliseconds(100))))
        }
        await pass()
        var lastPass = ContinuousClock.now
        while true {
            let left = pids(of: account.uid)
            if left.isEmpty || ContinuousClock.now >= end { return left.count }
            // Something still runs a while after a pass (on a loaded host a pass can end before a
            // fork it missed was scheduled): another pass.
            if ContinuousClock.now - lastPass > .milliseconds(500) {
                await pass()
                lastPass = ContinuousClock.now
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
    }
}
