import Foundation

extension BackupBench {
    /// The backup benchmark's ratios for `chom-bench all`, with the goals: backup ≤ 1.1×
    /// `tar | zstd -3`, encrypted restore ≤ 1.2× the plain one, restore peak RSS ≤ 32 MB; restic
    /// and the restore against `zstd -d | tar` as figures without a goal.
    static func summarize(_ figures: [Row: Figures]) {
        func time(_ row: Row) -> Double? { figures[row]?.best.map(seconds) }
        func text(_ row: Row) -> String { time(row).map { "\(format($0, 2)) s" } ?? "-" }
        func ratio(_ a: Row, _ b: Row) -> Double? {
            guard let x = time(a), let y = time(b), y > 0 else { return nil }
            return x / y
        }
        BenchSummary.atMost(
            "backup", "backup time", chom: text(chomBackup), peer: "tar | zstd -3: \(text(peerBackup))",
            ratio: ratio(chomBackup, peerBackup), bound: 1.1)
        BenchSummary.atMost(
            "backup", "encrypted restore time", chom: text(chomEncryptedRestore), peer: "CHOM restore: \(text(chomRestore))",
            ratio: ratio(chomEncryptedRestore, chomRestore), bound: 1.2)
        if let restore = figures[chomRestore], let encrypted = figures[chomEncryptedRestore] {
            let peak = rssMB(max(restore.maxRSSKiB, encrypted.maxRSSKiB))
            BenchSummary.record(BenchRatio(
                bench: "backup", measure: "restore peak RSS (plain or encrypted, larger)", chom: "\(format(peak, 1)) MB",
                peer: "zstd -d | tar: \(figures[peerRestore].map { format(rssMB($0.maxRSSKiB), 1) } ?? "-") MB",
                ratio: peak / 32, goal: "≤ 32 MB", met: peak <= 32))
        }
        let ungoaled: [(String, Row, Row, String)] = [
            ("restore time", chomRestore, peerRestore, "zstd -d | tar"),
            ("encrypted backup time against restic", chomEncryptedBackup, resticBackup, "restic backup"),
            ("encrypted restore time against restic", chomEncryptedRestore, resticRestore, "restic restore"),
        ]
        for (measure, ours, peer, name) in ungoaled where figures[peer] != nil {
            BenchSummary.record(BenchRatio(
                bench: "backup", measure: measure, chom: text(ours), peer: "\(name): \(text(peer))", ratio: ratio(ours, peer),
                goal: "", met: nil))
        }
        if let ours = figures[chomBackup], let peer = figures[peerBackup] {
            let ratio = Double(ours.maxRSSKiB) / Double(max(1, peer.maxRSSKiB))
            BenchSummary.record(BenchRatio(
                bench: "backup", measure: "backup peak RSS", chom: "\(format(rssMB(ours.maxRSSKiB), 1)) MB",
                peer: "tar | zstd -3: \(format(rssMB(peer.maxRSSKiB), 1)) MB", ratio: ratio, goal: "", met: nil))
        }
    }
}
