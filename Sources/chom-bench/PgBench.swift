import CHOMStore
import CHOMTesting
import Foundation
import Logging
import PostgresNIO

/// `pgbench`, PostgreSQL's own load generator: the peer of every benchmark whose work goes
/// through the database (billing ingestion, the fleet's task statements, the admin API's list, the
/// audit log's appends). One place finds it and reads its rate.
enum PgBench {
    /// The newest installed pgbench (Debian keeps it under /usr/lib/postgresql/N/bin), or one on PATH.
    static var binary: String? {
        let candidates = ((try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? [])
            .sorted { (Int($0) ?? 0) > (Int($1) ?? 0) }.map { "/usr/lib/postgresql/\($0)/bin/pgbench" }
        return (candidates + [ChildProcess.which("pgbench")].compactMap { $0 })
            .first(where: { FileManager.default.isExecutableFile(atPath: $0) })
    }

    /// psql beside pgbench.
    static var psql: String? { binary.map { $0.replacingOccurrences(of: "pgbench", with: "psql") } }

    /// How long pgbench runs: transactions per client, or seconds.
    enum Length {
        case transactionsPerClient(Int)
        case seconds(Int)

        var arguments: [String] {
            switch self {
            case .transactionsPerClient(let count): ["-t", "\(max(1, count))"]
            case .seconds(let seconds): ["-T", "\(max(1, seconds))"]
            }
        }

        var bound: Int {
            switch self {
            case .transactionsPerClient: 600
            case .seconds(let seconds): seconds + 120
            }
        }
    }

    /// Transactions per second of `script` run by `clients` clients (`-n`: no vacuum of pgbench's own
    /// tables, which it does not use here). Bounded by `timeout`, so a pgbench that cannot finish
    /// does not hang the run. `extra` adds options such as `-M prepared`.
    static func tps(
        binary: String, script: String, socket: String, username: String, database: String, clients: Int,
        length: Length, extra: [String] = [], log: String
    ) throws -> Double {
        let ran = Result {
            try ChildProcess.run([Command(
                argv: ["timeout", "\(length.bound)", binary, "-n", "-h", socket, "-U", username, "-c", "\(clients)",
                    "-j", "\(min(2, clients))"] + length.arguments + extra + ["-f", script, database],
                log: log)])
        }
        let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        if case .failure(let error) = ran { throw ChildFailure(description: "\(error): \(output.suffix(1000))") }
        guard let line = output.split(separator: "\n").first(where: { $0.hasPrefix("tps = ") }),
            let tps = Double(line.dropFirst(6).prefix { $0.isNumber || $0 == "." })
        else { throw ChildFailure(description: "pgbench printed no tps: \(output.suffix(1000))") }
        return tps
    }
}

/// A PostgreSQL of the benchmark's own (embedded, fsync on, as in production), migrated, with a
/// client of `maximumConnections` running while `body` runs; stopped and removed after.
enum BenchDatabase {
    static func with(
        prefix: String, logger: Logger, maximumConnections: Int,
        _ body: (PostgresClient, EmbeddedPostgres) async throws -> Void
    ) async throws {
        let directory = try TemporaryDirectory.make(prefix: prefix)
        let postgres = EmbeddedPostgres(directory: directory, logger: logger)
        try await postgres.startOffPool()
        defer {
            postgres.stop(immediate: true)
            TemporaryDirectory.remove(directory)
        }
        var configuration = PostgresClient.Configuration(
            unixSocketPath: postgres.socketPath, username: postgres.username, password: nil, database: postgres.database)
        configuration.options.maximumConnections = maximumConnections
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            try await Migrator.migrate(client, logger: logger)
            try await body(client, postgres)
        }
    }
}
