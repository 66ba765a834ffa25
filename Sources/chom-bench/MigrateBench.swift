import CHOMAPI
import CHOMArchive
import CHOMCoordinator
import CHOMCore
import CHOMTesting
import Foundation

/// `chom-bench migrate [--size-mb 100] [--rounds 3] [--dir /var/tmp/chom-bench]`: a site of the
/// generated tree (`BenchTree`, about half small text files, half large mixed files) migrates
/// between two hosts of the namespace harness (`scripts/netns-harness.sh`: separate network
/// namespaces, each with a real `chom-agent` and nginx; a coordinator with its throwaway
/// PostgreSQL; backups in a directory both share), back and forth `--rounds` times. Each round
/// reports the time to the switch (configure on the target, backup on the source, restore on the
/// target verified by its manifest, health check, switch: the site is served by the target) and to
/// the end (the old copy removed, less the 1 s proxy window), next to the peer measured in the same
/// round on the same tree: `tar -C A -cf - . | zstd | zstd -d | tar -C B -xf -`, a bare copy with
/// no backup, verification, encryption, privilege separation or switch. Needs root. Figures, not
/// assertions.
enum MigrateBench {
    static func main(_ arguments: [String]) async throws {
        var options = Options(arguments)
        let sizeMB = Int(try options.optionalValue("--size-mb") ?? "100") ?? 100
        let rounds = max(1, Int(try options.optionalValue("--rounds") ?? "3") ?? 3)
        let base = URL(fileURLWithPath: try options.optionalValue("--dir") ?? "/var/tmp/chom-bench")
        try options.finish()
        guard sizeMB >= 1 else { throw ChildFailure(description: "--size-mb: at least 1") }
        if let reason = NamespaceHarness.unavailableReason { throw ChildFailure(description: reason) }

        let (tree, archive) = try benchSite(sizeMB: sizeMB, base: base)
        let backups = try TemporaryDirectory.make(prefix: "chom-bench-migrate-backups")
        let peerTarget = try TemporaryDirectory.make(prefix: "chom-bench-migrate-peer")
        defer { [backups, peerTarget].forEach(TemporaryDirectory.remove) }

        try await NamespaceHarness.with(hosts: 2, configure: { configuration in
            configuration.backups.destination.path = backups.path
            configuration.fleet.sharedBackupDirectory = true
            configuration.fleet.proxySeconds = 1
            configuration.fleet.tickSeconds = 0.1
            configuration.fleet.healthTimeoutSeconds = 60
        }) { harness in
            let client = harness.coordinator.client
            let domain = "bench.migrate.test"
            let site = try await harness.coordinator.createSite(domain: domain)
            let uploaded = try await client.uploadRelease(site: domain, archive: archive)
            let deployed = try await harness.coordinator.waitForTask(
                try await client.deploy(site: domain, releaseID: uploaded.id).id, timeout: .seconds(600))
            guard deployed.state == "succeeded" else {
                throw ChildFailure(description: "the deploy failed: \(deployed.message ?? "")")
            }
            var measured: [(ratio: Double, switched: Duration, peer: Duration)] = []
            for round in 1...rounds {
                let placed = try await client.site(site.id)
                guard let target = harness.hosts.first(where: { $0.agentID?.description != placed.agentId }),
                    let targetID = target.agentID?.description
                else { throw ChildFailure(description: "no second host") }
                // The side run second meets the first one's writeback: the order alternates.
                func runPeer() throws -> ChildRun {
                    try? FileManager.default.removeItem(at: peerTarget)
                    try FileManager.default.createDirectory(at: peerTarget, withIntermediateDirectories: true)
                    return try ChildProcess.run([
                        Command(argv: ["tar", "-C", tree.root.path, "-cf", "-", "."]), Command(argv: ["zstd", "-q"]),
                        Command(argv: ["zstd", "-d", "-q"]), Command(argv: ["tar", "-C", peerTarget.path, "-xf", "-"]),
                    ])
                }
                var peerRun: ChildRun? = round % 2 == 0 ? try runPeer() : nil
                let started = ContinuousClock.now
                var migration = try await client.moveSite(site.id, to: targetID)
                var switched: Duration?
                while migration.finishedAt == nil {
                    try await Task.sleep(for: .milliseconds(50))
                    migration = try await client.migration(id: migration.id)
                    if switched == nil, migration.switchedAt != nil { switched = ContinuousClock.now - started }
                }
                let total = ContinuousClock.now - started
                guard migration.state == "succeeded", let switched else {
                    throw ChildFailure(description: "round \(round): the migration failed at \(migration.failedStep ?? migration.step): \(migration.message)")
                }
                if peerRun == nil { peerRun = try runPeer() }
                guard let peer = peerRun else { continue }
                let ratio = seconds(switched) / seconds(peer.wall)
                measured.append((ratio, switched, peer.wall))
                print("""
                    round \(round), \(placed.agentId.map { harness.host(agentID: $0)?.name ?? $0 } ?? "?") → \(target.name): \
                    switch after \(format(switched)) s, done after \(format(total - .seconds(1))) s (less the 1 s proxy window); \
                    tar | zstd | zstd -d | tar \(format(peer.wall)) s; switch / peer \(String(format: "%.2f", ratio))×
                    """)
            }
            let sorted = measured.map(\.ratio).sorted()
            print(String(repeating: "-", count: 100))
            print("""
                migration of a \(sizeMB) MB site to the switch vs tar | zstd | zstd -d | tar: best \
                \(String(format: "%.2f", sorted[0]))×, median \(String(format: "%.2f", sorted[sorted.count / 2]))×
                """)
            let median = measured.sorted { $0.ratio < $1.ratio }[measured.count / 2]
            BenchSummary.record(BenchRatio(
                bench: "migrate", measure: "\(sizeMB) MB site, time to the switch (the median round of \(measured.count))",
                chom: "\(format(median.switched)) s", peer: "tar | zstd | zstd -d | tar, same round: \(format(median.peer)) s",
                ratio: median.ratio, goal: "", met: nil))
        }
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    static func format(_ duration: Duration) -> String { String(format: "%.2f", seconds(duration)) }
}

extension MigrateBench {
    /// The generated tree of `sizeMB` under `base` (made once, reused) and a release archive with it
    /// as the public directory, plus the `/` page the deploy's and the migration's health checks ask
    /// for; prints the machine, the tree and the archive's size. Shared with `FailoverBench`.
    static func benchSite(sizeMB: Int, base: URL) throws -> (tree: BenchTree, archive: Data) {
        print("machine: \(BackupBench.machine())")
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        let tree = BenchTree(root: base.appendingPathComponent("tree-\(sizeMB)mb"), sizeMB: sizeMB)
        let stats = try tree.existing() ?? tree.generate()
        print("tree: \(stats.files) files, \(stats.directories) directories, \(stats.symlinks) symlinks, \(stats.bytes >> 20) MiB")
        let release = try TemporaryDirectory.make(prefix: "chom-bench-release")
        defer { TemporaryDirectory.remove(release) }
        _ = try ChildProcess.run([Command(argv: ["cp", "-a", tree.root.path, release.appendingPathComponent("public").path])])
        try Data("<h1>bench</h1>\n".utf8).write(to: release.appendingPathComponent("public/index.html"))
        let archive = try TarZst.pack(directory: release)
        print("release archive: \(archive.count >> 20) MiB (tar.zst)")
        print(String(repeating: "-", count: 100))
        return (tree, archive)
    }
}
