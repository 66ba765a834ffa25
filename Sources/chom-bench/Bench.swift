import CHOMCore
import CHOMProtocol
import Crypto
import Foundation

/// `chom-bench [envelope] [ITERATIONS]`: prints the cost of one envelope seal + open (a deploy task), with
/// Ed25519 sign/verify alone as the peer measured in the same run.
/// `chom-bench backup [--size-mb 1024] [--dir /var/tmp/chom-bench] [--keep-tree] [--rounds 2]`:
/// backup and restore of a generated tree against tar | zstd and restic (see `BackupBench`).
/// `chom-bench sitefiles [--size-mb 256] [--rounds 3]`: the site-file layer's descriptor walks
/// against chown -R, du -sx and rm -rf (see `SiteFilesBench`).
/// `chom-bench privsep [--size-mb 1024] [--rounds 3] [--deploys 20] [--dir /var/tmp/chom-bench-privsep] [--keep-tree]`:
/// as root, the cost of privilege separation: the agent's protected deploy, backup and restore
/// against the same steps as they were before the hostile-tenant work, round by round, with
/// tar | zstd -3 and zstd -d | tar as peers (see `PrivsepBench`).
/// `chom-bench schedule [--agents 10000] [--sites 100000] [--placements 20000] [--overloaded 300] [--limit 16]`:
/// placements per second with bounded sampling and with a full scan, and rebalance and drain plan
/// times, on a generated fleet, next to Nomad's C1M 3,750/s (see `ScheduleBench`).
/// `chom-bench migrate [--size-mb 100] [--rounds 3] [--dir /var/tmp/chom-bench]`: as root, a site
/// migrated between two hosts of the namespace harness, next to tar | zstd | zstd -d | tar of the
/// same tree (see `MigrateBench`).
/// `chom-bench fleet [--agents 1000] [--tasks 5000] [--rate 1000] [--seconds 10] [--concurrency 64] [--idle-seconds 30]`:
/// pings end to end through a coordinator and that many agents over mutual TLS, results per second
/// against pgbench running the same statements, latency at a fixed rate, the coordinator's RSS and
/// CPU (see `FleetBench`).
/// `chom-bench salt [--agents 10] [--seconds 10] [--skip-salt]`: Salt 3008's `test.ping` (a master
/// and that many minions, `scripts/salt-bench.sh`) against CHOM's `ping` through as many agents,
/// returns per second and one job's latency (see `SaltBench`).
/// `chom-bench failover [--size-mb 100] [--dir /var/tmp/chom-bench]`: as root, a site's host cut
/// from the namespace harness (`ip link set down`) until the site is served by the other host,
/// next to `zstd -d | tar -x` of the same tree (see `FailoverBench`).
/// `chom-bench billing [--samples 400000] [--batch 5000] [--concurrency 8] [--organizations 10000]`:
/// usage samples stored per second against pgbench inserting the same rows, and one period close
/// for that many organizations (see `BillingBench`).
/// `chom-bench agent [--sites 200] [--requests 20] [--scrapes 50] [--idle-seconds 30]`: as root, the
/// real agent's RSS and `/metrics` scrape time with that many sites against node_exporter (see `AgentBench`).
/// `chom-bench api [--sites 10000] [--connections 16] [--seconds 10]`: tenant-scoped `GET /v1/sites`
/// driven by wrk against pgbench running the route's SELECT (see `ApiBench`).
/// `chom-bench audit [--appends 20000] [--writers 16] [--entries 200000]`: audit appends per second
/// and verified entries per second (see `AuditBench`).
/// `chom-bench all [--quick] [--skip NAME,…]`: every benchmark above in one run, then one table of
/// every ratio with its goal (see `AllBench`; `make bench` runs it after installing the peers).
/// Figures, not assertions.
@main
struct Bench {
    static func main() async throws {
        let arguments = Array(CommandLine.arguments.dropFirst())
        do {
            switch arguments.first {
            case "backup": try BackupBench.main(Array(arguments.dropFirst()))
            case "backup-worker": try BackupWorker.main(Array(arguments.dropFirst()))
            case "sitefiles": try SiteFilesBench.main(Array(arguments.dropFirst()))
            case "sitefiles-worker": try SiteFilesWorker.main(Array(arguments.dropFirst()))
            case "privsep": try PrivsepBench.main(Array(arguments.dropFirst()))
            case "privsep-worker": try await PrivsepWorker.main(Array(arguments.dropFirst()))
            case "schedule": try ScheduleBench.main(Array(arguments.dropFirst()))
            case "migrate": try await MigrateBench.main(Array(arguments.dropFirst()))
            case "fleet": try await FleetBench.main(Array(arguments.dropFirst()))
            case "fleet-agents": try await FleetAgents.main(Array(arguments.dropFirst()))
            case "fleet-load": try await FleetLoad.main(Array(arguments.dropFirst()))
            case "salt": try await SaltBench.main(Array(arguments.dropFirst()))
            case "failover": try await FailoverBench.main(Array(arguments.dropFirst()))
            case "billing": try await BillingBench.main(Array(arguments.dropFirst()))
            case "agent": try await AgentBench.main(Array(arguments.dropFirst()))
            case "api": try await ApiBench.main(Array(arguments.dropFirst()))
            case "audit": try await AuditBench.main(Array(arguments.dropFirst()))
            case "all": try AllBench.main(Array(arguments.dropFirst()))
            case "envelope": try envelope(iterations: Int(arguments.dropFirst().first ?? "") ?? 5000)
            default: try envelope(iterations: Int(arguments.first ?? "") ?? 5000)
            }
        } catch let failure as ChildFailure {
            FileHandle.standardError.write(Data("chom-bench: \(failure)\n".utf8))
            exit(1)
        } catch {
            FileHandle.standardError.write(Data("chom-bench: \(String(reflecting: error))\n".utf8))
            exit(1)
        }
    }

    static func envelope(iterations: Int) throws {
        let signer = EnvelopeSigner(privateKey: Curve25519.Signing.PrivateKey())
        let agent = AgentID()
        var deploy = Chom_Agent_V1_DeployTask()
        deploy.siteID = UUID().uuidString.lowercased()
        deploy.domain = "bench.example.test"
        deploy.releaseID = UUID().uuidString.lowercased()
        deploy.artifactSha256 = String(repeating: "ab", count: 32)
        deploy.artifactSize = 123_456
        deploy.artifactFormat = .tarZstd
        deploy.keepReleases = 5
        var task = Chom_Agent_V1_Task()
        task.deploy = deploy
        let opener = EnvelopeOpener(trustedKeys: TrustedEnvelopeKeys([signer.publicKey]), expectedAgent: agent)
        var window = ReplayWindow()
        let now = Date()
        // Task ids made beforehand: formatting a UUID is not the envelope's cost.
        let taskIDs = (0..<iterations).map { _ in UUID().uuidString.lowercased() }
        let message = Data(repeating: 7, count: 200)

        // Ten rounds alternating the two loops (the order reversed every other round), each side's
        // fastest round kept: the machine's other work shows in the slower rounds, not in the ratio.
        let rounds = 10
        let perRound = max(1, iterations / rounds)
        var envelopeTime = Duration.seconds(1_000_000), peerTime = Duration.seconds(1_000_000)
        var sequence: UInt64 = 0
        for round in 0..<rounds {
            let envelopeLoop = {
                let start = ContinuousClock.now
                for index in 0..<perRound {
                    sequence += 1
                    task.taskID = taskIDs[(round * perRound + index) % taskIDs.count]
                    let envelope = try EnvelopeSealer.seal(
                        task: task, audience: agent, sequence: sequence, ttl: 600, signer: signer, now: now)
                    _ = try opener.open(envelope, replay: &window, now: now)
                }
                envelopeTime = min(envelopeTime, ContinuousClock.now - start)
            }
            let peerLoop = {
                let start = ContinuousClock.now
                for _ in 0..<perRound {
                    let signature = try signer.privateKey.signature(for: message)
                    precondition(signer.publicKey.isValidSignature(signature, for: message))
                }
                peerTime = min(peerTime, ContinuousClock.now - start)
            }
            if round % 2 == 0 {
                try envelopeLoop()
                try peerLoop()
            } else {
                try peerLoop()
                try envelopeLoop()
            }
        }
        let iterations = perRound

        let perEnvelope = envelopeTime / iterations
        let perPeer = peerTime / iterations
        print("envelope seal+open (deploy task): \(micros(perEnvelope)) µs per envelope (best of \(rounds) rounds of \(iterations))")
        print("peer: Ed25519 sign+verify of 200 bytes: \(micros(perPeer)) µs")
        print(String(format: "ratio seal+open / sign+verify: %.2f", ratio(perEnvelope, perPeer)))
        BenchSummary.atMost(
            "envelope", "seal + open of a deploy task", chom: "\(micros(perEnvelope)) µs",
            peer: "Ed25519 sign + verify: \(micros(perPeer)) µs", ratio: ratio(perEnvelope, perPeer), bound: 1.2)
    }

    static func micros(_ duration: Duration) -> String {
        String(format: "%.1f", Double(duration.components.attoseconds) / 1e12 + Double(duration.components.seconds) * 1e6)
    }

    static func ratio(_ a: Duration, _ b: Duration) -> Double {
        let seconds = { (d: Duration) in Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }
        return seconds(a) / seconds(b)
    }
}
