import CHOMAPI
import CHOMArchive
import CHOMCoordinator
import CHOMCore
import CHOMTesting
import Foundation

/// `chom-bench failover [--size-mb 100] [--dir /var/tmp/chom-bench]`: a site of the generated tree
/// (`BenchTree`), deployed and backed up on one host of the namespace harness (two hosts, each a real
/// `chom-agent` with its nginx; backups in a directory both share), then that host's link is cut
/// (`ip link set down`). Reports the time from the cut to the site served by the other host, and
/// its parts as the coordinator recorded them: detection (the failure detector's TTL and grace,
/// heartbeats every 1 s, TTL 3 s, grace 3 s), then the recovery time from the verdict to serving
/// (placement, restore of the latest backup verified by its manifest, health check). Next to it, in
/// the same run, the bare restore of the same tree (`zstd -d | tar -x` of a `tar | zstd` archive).
/// Needs root. Figures, not assertions.
enum FailoverBench {
    static func main(_ arguments: [String]) async throws {
        var options = Options(arguments)
        let sizeMB = Int(try options.optionalValue("--size-mb") ?? "100") ?? 100
        let base = URL(fileURLWithPath: try options.optionalValue("--dir") ?? "/var/tmp/chom-bench")
        try options.finish()
        guard sizeMB >= 1 else { throw ChildFailure(description: "--size-mb: at least 1") }
        if let reason = NamespaceHarness.unavailableReason { throw ChildFailure(description: reason) }

        let (tree, archive) = try MigrateBench.benchSite(sizeMB: sizeMB, base: base)
        let backups = try TemporaryDirectory.make(prefix: "chom-bench-failover-backups")
        let peer = try TemporaryDirectory.make(prefix: "chom-bench-failover-peer")
        defer { [backups, peer].forEach(TemporaryDirectory.remove) }

        try await NamespaceHarness.with(
            hosts: 2,
            configure: { configuration in
                configuration.backups.destination.path = backups.path
                configuration.fleet.sharedBackupDirectory = true
                configuration.fleet.tickSeconds = 0.2
                configuration.fleet.healthTimeoutSeconds = 60
                configuration.fleet.failoverEnabled = true
                configuration.agents.heartbeatIntervalSeconds = 1
                configuration.agents.heartbeatTTLSeconds = 3
                configuration.agents.failureGraceSeconds = 3
                configuration.agents.siteLeaseSeconds = 3
            },
            agentArguments: ["--heartbeat-interval", "1"]
        ) { harness in
            let client = harness.coordinator.client
            let domain = "bench.failover.test"
            let site = try await harness.coordinator.createSite(domain: domain)
            let uploaded = try await client.uploadRelease(site: domain, archive: archive)
            let deployed = try await harness.coordinator.waitForTask(
                try await client.deploy(site: domain, releaseID: uploaded.id).id, timeout: .seconds(600))
            guard deployed.state == "succeeded" else { throw ChildFailure(description: "the deploy failed: \(deployed.message ?? "")") }
            let backup = try await client.createBackup(site: domain)
            guard let backupTask = backup.taskId else { throw ChildFailure(description: "the backup has no task") }
            let backedUp = try await harness.coordinator.waitForTask(backupTask, timeout: .seconds(600))
            guard backedUp.state == "succeeded" else { throw ChildFailure(description: "the backup failed: \(backedUp.message ?? "")") }

            let placed = try await client.site(site.id)
            guard let source = harness.hosts.first(where: { $0.agentID?.description == placed.agentId }),
                let target = harness.hosts.first(where: { $0.agentID?.description != placed.agentId })
            else { throw ChildFailure(description: "no second host") }
            let cut = ContinuousClock.now
            try await source.disconnect()
            var served: Duration?
            while served == nil {
                if cut.duration(to: .now) > .seconds(600) { throw ChildFailure(description: "the site was not served elsewhere within 600 s") }
                if let reply = try? await harness.fetch(host: target, hostHeader: domain, timeout: .seconds(2)),
                    reply.status == 200, reply.text == "<h1>bench</h1>\n"
                {
                    served = cut.duration(to: .now)
                } else {
                    try await Task.sleep(for: .milliseconds(100))
                }
            }
            // The coordinator records the recovery time once its health check of the new copy passed.
            var failover = try await client.migrations(site: site.id).first { $0.reason == "failover" }
            let recorded = ContinuousClock.now
            while failover?.recoveryTimeSeconds == nil, recorded.duration(to: .now) < .seconds(60) {
                try await Task.sleep(for: .milliseconds(200))
                failover = try await client.migrations(site: site.id).first { $0.reason == "failover" }
            }
            try await source.reconnect()

            // The peer: the same tree packed, then unpacked, as a restore with nothing around it would.
            let packed = peer.appendingPathComponent("tree.tar.zst")
            _ = try ChildProcess.run([
                Command(argv: ["tar", "-C", tree.root.path, "-cf", "-", "."]), Command(argv: ["zstd", "-q", "-o", packed.path]),
            ])
            let extracted = peer.appendingPathComponent("tree")
            try FileManager.default.createDirectory(at: extracted, withIntermediateDirectories: true)
            let restore = try ChildProcess.run([
                Command(argv: ["zstd", "-d", "-q", "-c", packed.path]), Command(argv: ["tar", "-C", extracted.path, "-xf", "-"]),
            ])

            guard let served else { return }
            print("""
                | measure (\(sizeMB) MB site, heartbeat 1 s, TTL 3 s, grace 3 s) | seconds |
                |---|---|
                | link cut → served by the other host | \(MigrateBench.format(served)) |
                | of which recovery, failure declared → serving (coordinator's record) | \(failover?.recoveryTimeSeconds.map { String(format: "%.2f", $0) } ?? "-") |
                | recovery point (the backup's age at the failure) | \(failover?.recoveryPointSeconds.map { String(format: "%.2f", $0) } ?? "-") |
                | peer: zstd -d \\| tar -x of the same tree, alone | \(MigrateBench.format(restore.wall)) |
                """)
            print("for reference, not measured here: Nomad replaces lost work after about 20–30 s (≤ 100 clients), Kubernetes after about 6 min by default")
            BenchSummary.record(BenchRatio(
                bench: "failover", measure: "\(sizeMB) MB site, link cut → served by the other host",
                chom: "\(MigrateBench.format(served)) s", peer: "zstd -d | tar -x alone: \(MigrateBench.format(restore.wall)) s",
                ratio: MigrateBench.seconds(served) / MigrateBench.seconds(restore.wall), goal: "", met: nil))
        }
    }
}
