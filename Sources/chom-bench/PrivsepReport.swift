import Foundation

/// `chom-bench privsep`'s table and ratios.
enum PrivsepReport {
    typealias Bench = PrivsepBench

    static func print(_ figures: [Bench.Row: Bench.Figures], rounds: Int, deploys: Int, treeBytes: Double) {
        let f = BackupBench.format
        Swift.print("")
        Swift.print("\(rounds) rounds; deploy rows are seconds per deploy (\(deploys) deploys per process); tree \(f(treeBytes / 1e6, 1)) MB")
        Swift.print([
            BackupBench.pad("step", 28), BackupBench.pad("side", 14), BackupBench.lpad("best s", 10), BackupBench.lpad("median s", 10),
            BackupBench.lpad("peak RSS MB", 12), "  every round s",
        ].joined(separator: " "))
        let steps: [(String, [String])] = [
            (Bench.demoDeploy, [Bench.before, Bench.protected]),
            (Bench.hookDeploy, [Bench.before, Bench.protected]),
            (Bench.backup, [Bench.before, Bench.protected, Bench.tarPeer]),
            (Bench.restore, [Bench.before, Bench.protected, Bench.untarPeer]),
        ]
        for (step, sides) in steps {
            for side in sides {
                guard let figure = figures[Bench.Row(step: step, side: side)] else { continue }
                let decimals = step.hasPrefix("deploy") ? 5 : 2
                Swift.print([
                    BackupBench.pad(step, 28), BackupBench.pad(side, 14), BackupBench.lpad(f(figure.best, decimals), 10),
                    BackupBench.lpad(f(figure.median, decimals), 10), BackupBench.lpad(f(BackupBench.rssMB(figure.peakRSSKiB), 1), 12),
                    "  " + figure.seconds.map { f($0, decimals) }.joined(separator: " "),
                ].joined(separator: " "))
            }
        }

        Swift.print("")
        Swift.print("steps, as each worker timed them (median over the rounds; deploys: ms per deploy, restore: s)")
        for step in [Bench.demoDeploy, Bench.hookDeploy, Bench.restore] {
            let scale = step == Bench.restore ? 1.0 : 1000
            for side in [Bench.before, Bench.protected] {
                guard let figure = figures[Bench.Row(step: step, side: side)] else { continue }
                let parts = figure.stepOrder.map { "\($0) \(f(Bench.Figures.median(figure.steps[$0] ?? []) * scale, 3)) (best \(f(((figure.steps[$0] ?? []).min() ?? .nan) * scale, 3)))" }
                Swift.print("  \(BackupBench.pad(step, 28)) \(BackupBench.pad(side, 10)) \(parts.joined(separator: ", "))")
            }
        }
        Swift.print("")
        Swift.print("ratios (same run; goal protected / before ≤ 1.10)")
        for (step, sides) in steps {
            guard let old = figures[Bench.Row(step: step, side: Bench.before)],
                let new = figures[Bench.Row(step: step, side: Bench.protected)]
            else { continue }
            var parts = [
                "protected / before: best \(f(new.best / old.best, 2)), median \(f(new.median / old.median, 2))",
                "peak RSS \(f(Double(new.peakRSSKiB) / Double(max(old.peakRSSKiB, 1)), 2))",
            ]
            if sides.count == 3, let peer = figures[Bench.Row(step: step, side: sides[2])] {
                parts.append("/ \(sides[2]) (best): protected \(f(new.best / peer.best, 2)), before \(f(old.best / peer.best, 2))")
            }
            Swift.print("  \(BackupBench.pad(step, 28)) \(parts.joined(separator: "; "))")
        }
        for (step, part) in [(Bench.restore, "hand-over"), (Bench.hookDeploy, "hooks")] {
            guard let old = figures[Bench.Row(step: step, side: Bench.before)]?.steps[part],
                let new = figures[Bench.Row(step: step, side: Bench.protected)]?.steps[part], let oldBest = old.min(), let newBest = new.min()
            else { continue }
            let median = Bench.Figures.median(new) / Bench.Figures.median(old)
            Swift.print("  \(BackupBench.pad("\(step), \(part) alone", 28)) protected / before: best \(f(newBest / oldBest, 2)), median \(f(median, 2))")
        }
        Swift.print("""

            notes: deploy = the artifact (already fetched and verified: the same on both sides, left out)
              extracted by SafeExtractor into .incoming/, shared paths, hand-over to the site user,
              rename into releases/, hooks, switch of current, prune to 5 releases; before = by path
              (FileManager, fchownat per entry, hooks through setpriv without a cgroup), protected = the
              agent's SharedPaths, SiteDirectory.chownTree (O_PATH + fstat per entry), HookRunner (a cgroup
              made, joined, killed and removed per run), SiteLayout.switchCurrent / prune. Backup: the same
              BackupWriter walk, protected with BackupSource.owner (fstat owner check per file). Restore:
              the same BackupReader.restore into root's work directory, then the hand-over into releases/
              (protected: chownTree unreachable:, by name with fstatat + fchownat, as BackupExecutor does).
              Each side a fresh process after sync(); the rounds' order alternates.
            """)
    }
}
