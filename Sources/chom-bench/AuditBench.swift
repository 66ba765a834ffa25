import CHOMAudit
import CHOMCore
import CHOMStore
import CHOMTesting
import Crypto
import Foundation
import Logging
import PostgresNIO

/// `chom-bench audit [--appends 20000] [--writers 16] [--entries 200000]`: the hash-chained audit
/// log against a PostgreSQL of its own (fsync on, as in production).
///
/// 1. Appends: `--writers` concurrent writers each commit audited writes (`Store.write` with one
///    entry: staged in the write's transaction, then chained after its commit, group-committed under
///    the append lock, checkpoints signed every 1,000 entries) until `--appends` are chained. The
///    peer in the same run: `pgbench` committing the same staged row per transaction, no chain, at the
///    same concurrency. Goal: at least 5,000 appends a second.
/// 2. Verification: the chain grown to `--entries` (the extra entries staged by SQL and chained by
///    `AuditLog.chainPending`), then walked from PostgreSQL and verified (`AuditChainVerifier`: every
///    hash, every link, every signed checkpoint), as `chom audit verify` does. The peer: `psql`
///    copying the same rows out in sequence order (the database's own read, nothing checked). Goal:
///    at least 300,000 verified entries a second. Figures, not assertions.
enum AuditBench {
    static func main(_ arguments: [String]) async throws {
        var options = Options(arguments)
        let appends = Int(try options.optionalValue("--appends") ?? "20000") ?? 20_000
        let writers = Int(try options.optionalValue("--writers") ?? "16") ?? 16
        let entries = Int(try options.optionalValue("--entries") ?? "200000") ?? 200_000
        try options.finish()
        guard appends >= writers, writers >= 1, entries >= appends else {
            throw ChildFailure(description: "audit: --appends at least --writers, --entries at least --appends")
        }
        print("machine: \(BackupBench.machine())")
        var logger = Logger(label: "chom.bench.audit")
        logger.logLevel = .warning
        let key = Curve25519.Signing.PrivateKey()
        try await BenchDatabase.with(prefix: "chom-bench-audit", logger: logger, maximumConnections: writers * 2 + 4) {
            client, postgres in
            let store = Store(client: client, logger: logger, audit: AuditSettings(signingKey: key))
            let rate = try await appendRate(store, appends: appends, writers: writers)
            let peer = try pgbench(postgres: postgres, writers: writers, transactions: appends)
            print("")
            print("| audit log | CHOM | peer | ratio |")
            print("|---|---|---|---|")
            print(String(format: "| appends per second, %d writers | %.0f | pgbench, the same row staged, no chain: %.0f | %.2f |",
                writers, rate, peer, rate / peer))
            BenchSummary.record(BenchRatio(
                bench: "audit", measure: "appends/s, \(writers) writers", chom: String(format: "%.0f/s", rate),
                peer: String(format: "pgbench, no chain: %.0f/s", peer), ratio: rate / peer, goal: "≥ 5,000/s", met: rate >= 5_000))
            try await verification(store, postgres: postgres, entries: entries, publicKey: key.publicKey)
        }
    }

    /// Appends per second: `writers` tasks committing one audited write each, `appends` in all.
    static func appendRate(_ store: Store, appends: Int, writers: Int) async throws -> Double {
        let before = try await store.audit.head().sequence
        let start = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for writer in 0..<writers {
                let count = appends / writers + (writer < appends % writers ? 1 : 0)
                group.addTask {
                    for index in 0..<count {
                        try await store.write(now: Date()) { transaction in
                            try await transaction.record(AuditEntry(
                                time: Date(), actor: "user:bench-\(writer)", organizationID: nil, tenantID: nil,
                                action: "site.update", target: "site:\(writer)-\(index)", requestID: "bench-\(writer)-\(index)",
                                sourceAddress: "198.18.0.1", details: ["field": "config", "writer": "\(writer)"]))
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        let seconds = FleetBench.inSeconds(start.duration(to: .now))
        let chained = try await store.audit.head().sequence - before
        guard chained == Int64(appends), try await store.audit.pendingCount() == 0 else {
            throw ChildFailure(description: "audit: \(chained) of \(appends) entries chained")
        }
        return Double(appends) / seconds
    }

    /// Transactions per second of pgbench committing the staged row alone, on a copy of audit_pending.
    static func pgbench(postgres: EmbeddedPostgres, writers: Int, transactions: Int) throws -> Double {
        guard let binary = PgBench.binary, let psql = PgBench.psql else { throw ChildFailure(description: "pgbench is not installed") }
        let log = postgres.directory.appendingPathComponent("pgbench-audit.log").path
        _ = try ChildProcess.run([Command(argv: [
            psql, "-q", "-h", postgres.socketDirectory, "-U", postgres.username, "-d", postgres.database, "-c",
            "CREATE TABLE bench_pending (LIKE audit_pending INCLUDING DEFAULTS INCLUDING INDEXES)",
        ], log: log)])
        let script = postgres.directory.appendingPathComponent("bench-audit.sql")
        try Data("""
            INSERT INTO bench_pending (time, actor, action, target, request_id, source_address, details)
                VALUES (now(), E'user\\x3abench', 'site.update', E'site\\x3abench', 'bench', '198.18.0.1', '{"field": "config"}');

            """.utf8).write(to: script)
        // No colon before a name in the script (`\x3a` for ':', a space after the JSON colon): pgbench
        // reads `:name` and `:"name"` as its variables.
        return try PgBench.tps(
            binary: binary, script: script.path, socket: postgres.socketDirectory, username: postgres.username,
            database: postgres.database, clients: writers, length: .transactionsPerClient(transactions / writers),
            extra: ["-M", "prepared"], log: log)
    }

    static func verification(_ store: Store, postgres: EmbeddedPostgres, entries: Int, publicKey: Curve25519.Signing.PublicKey) async throws {
        let have = Int(try await store.audit.head().sequence)
        if entries > have {
            let seedStart = ContinuousClock.now
            try await store.client.query("""
                INSERT INTO audit_pending (time, actor, action, target, request_id, source_address, details)
                SELECT now(), 'user:bench', 'site.update', 'site:' || g, 'bench-' || g, '198.18.0.1', '{"field":"config"}'
                FROM generate_series(1, \(entries - have)) AS g
                """, logger: store.logger)
            try await store.audit.chainPending()
            print("chain grown to \(entries) entries in \(FleetBench.format(seedStart.duration(to: .now)))")
        }
        let checkpoints = try await store.audit.checkpoints()
        let start = ContinuousClock.now
        var verifier = AuditChainVerifier(checkpoints: checkpoints, publicKeys: [publicKey])
        try await store.audit.walk { verifier.feed($0) }
        let result = verifier.finish()
        let seconds = FleetBench.inSeconds(start.duration(to: .now))
        guard case .intact(let count, _) = result, count == entries else {
            throw ChildFailure(description: "audit: the chain did not verify: \(result)")
        }
        let rate = Double(count) / seconds

        guard let psql = PgBench.psql else { throw ChildFailure(description: "psql is not installed") }
        let copyStart = ContinuousClock.now
        _ = try ChildProcess.run([Command(argv: [
            psql, "-q", "-h", postgres.socketDirectory, "-U", postgres.username, "-d", postgres.database, "-o", "/dev/null", "-c",
            "COPY (SELECT * FROM audit_entries ORDER BY sequence) TO STDOUT",
        ], log: postgres.directory.appendingPathComponent("psql-copy.log").path)])
        let copyRate = Double(count) / FleetBench.inSeconds(copyStart.duration(to: .now))
        print(String(format: "| entries verified per second (%d entries, %d signed checkpoints) | %.0f | psql COPY of the same rows: %.0f | %.2f |",
            count, checkpoints.count, rate, copyRate, rate / copyRate))
        BenchSummary.record(BenchRatio(
            bench: "audit", measure: "entries verified/s (\(count) entries)", chom: String(format: "%.0f/s", rate),
            peer: String(format: "psql COPY: %.0f/s", copyRate), ratio: rate / copyRate, goal: "≥ 300,000/s", met: rate >= 300_000))
    }
}
