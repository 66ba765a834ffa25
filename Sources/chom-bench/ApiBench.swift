import CHOMAPI
import CHOMCoordinator
import CHOMCore
import CHOMTesting
import Foundation

/// `chom-bench api [--sites 10000] [--connections 16] [--seconds 10]`: the admin API under load.
///
/// A coordinator (this process, its own PostgreSQL) with `--sites` sites in one tenant and as many
/// in another organization's tenant (seeded by SQL: the list reads rows, not how they came). A
/// member of the first organization signs in; `wrk` (Debian) asks `GET /v1/sites` with the member's
/// session token over `--connections` connections for `--seconds` seconds: every request is
/// authenticated, scoped to the member's tenants and answers the first page (50 sites, JSON).
/// The peer in the same run: `pgbench` running the route's own SELECT (the same columns, scope
/// and page) against the same database, prepared, on as many connections. Goals: at least 0.5× the
/// database's rate, p99 at most 10 ms. Figures, not assertions.
enum ApiBench {
    static func main(_ arguments: [String]) async throws {
        var options = Options(arguments)
        let sites = Int(try options.optionalValue("--sites") ?? "10000") ?? 10_000
        let connections = Int(try options.optionalValue("--connections") ?? "16") ?? 16
        let seconds = Int(try options.optionalValue("--seconds") ?? "10") ?? 10
        try options.finish()
        guard sites >= 1, connections >= 1, seconds >= 1 else { throw ChildFailure(description: "api: every number at least 1") }
        guard let wrk = ChildProcess.which("wrk") else { throw ChildFailure(description: "wrk is not installed (apt-get install -y wrk)") }
        print("machine: \(BackupBench.machine())")

        try await TestCoordinator.with { coordinator in
            let data = coordinator.dataDirectory
            let tenant = try await coordinator.testTenant()
            let other = try await coordinator.client.createOrganization(name: "other")
            let otherTenant = try await coordinator.client.createTenant(organizationID: other.id, name: "other")
            let seedStart = ContinuousClock.now
            for (id, label) in [(tenant, "bench"), (otherTenant.id, "other")] {
                try await TestDatabase.execute("""
                    INSERT INTO sites (id, tenant_id, domain, state, created_at, updated_at)
                    SELECT gen_random_uuid(), '\(id)'::uuid, 'site' || g || '.\(label).api-bench.test', 'created', now(), now()
                    FROM generate_series(1, \(sites)) AS g
                    """, dataDirectory: data)
            }
            try await TestDatabase.execute("ANALYZE", dataDirectory: data)
            print("\(2 * sites) sites seeded (\(sites) in the member's tenant) in \(FleetBench.format(seedStart.duration(to: .now)))")
            let token = try await member(coordinator)
            // Every page, once: the member sees exactly their tenant's sites.
            let seen = try await coordinator.client(token: token).sites()
            guard seen.count == sites, seen.allSatisfy({ $0.domain.hasSuffix(".bench.api-bench.test") && $0.domain.contains(".bench.") })
            else { throw ChildFailure(description: "the member sees \(seen.count) sites of \(sites), or another tenant's") }
            let url = coordinator.apiURL.appendingPathComponent("v1/sites").absoluteString
            let log = data.appendingPathComponent("wrk.log").path
            _ = try ChildProcess.run([Command(argv: [
                "timeout", "\(seconds + 60)", wrk, "-t", "2", "-c", "\(connections)", "-d", "\(seconds)s", "--latency",
                "-H", "Authorization: Bearer \(token)", url,
            ], log: log)])
            let result = try WrkResult(log: log)
            guard result.non2xx == 0 else {
                throw ChildFailure(description: "wrk got \(result.non2xx) answers other than 2xx: \(result.text.suffix(800))")
            }
            if result.socketErrors > 0 { print("wrk: \(result.socketErrors) socket errors (timeouts at 2 s included)") }
            let peer = try pgbench(data: data, tenant: tenant, connections: connections, seconds: seconds)

            print(String(repeating: "-", count: 100))
            print("| GET /v1/sites, \(sites) sites in the tenant, \(connections) connections | CHOM (wrk) | peer | ratio |")
            print("|---|---|---|---|")
            print(String(format: "| requests per second | %.0f | pgbench, the route's SELECT: %.0f | %.2f |", result.rate, peer, result.rate / peer))
            print(String(format: "| latency p50 / p99 | %.2f ms / %.2f ms | goal: p99 ≤ 10 ms | - |", result.p50, result.p99))
            BenchSummary.atLeast(
                "api", "GET /v1/sites, \(sites) sites, requests/s", chom: String(format: "%.0f/s", result.rate),
                peer: String(format: "pgbench: %.0f/s", peer), ratio: result.rate / peer, bound: 0.5)
            BenchSummary.record(BenchRatio(
                bench: "api", measure: "GET /v1/sites latency p99", chom: String(format: "%.2f ms", result.p99),
                peer: String(format: "p50 %.2f ms", result.p50), ratio: result.p99 / 10, goal: "≤ 10 ms", met: result.p99 <= 10))
        }
    }

    /// A member of the test organization, signed in: their session token.
    static func member(_ coordinator: TestCoordinator) async throws -> String {
        guard let organization = try await coordinator.client.allOrganizations().first(where: { $0.name == "tests" }) else {
            throw ChildFailure(description: "no test organization")
        }
        let invitation = try await coordinator.client.createInvitation(
            organizationID: organization.id, email: "bench-member@chom.test", role: "member")
        let password = "bench-member-password-0123"
        _ = try await coordinator.client(token: nil).acceptInvitation(token: invitation.token, password: password)
        let login = try await coordinator.client(token: nil).login(email: "bench-member@chom.test", password: password)
        guard let token = login.token else { throw ChildFailure(description: "the member could not sign in") }
        return token
    }

    /// Transactions per second of the route's SELECT (`ScopedSiteRepository.list`, first page).
    static func pgbench(data: URL, tenant: String, connections: Int, seconds: Int) throws -> Double {
        guard let binary = PgBench.binary else { throw ChildFailure(description: "pgbench is not installed (postgresql)") }
        let script = data.appendingPathComponent("bench-sites.sql")
        try Data("""
            SELECT s.*, s.config::text AS config_text,
              (SELECT max(b.finished_at) FROM backups b
                WHERE b.site_id = s.id AND b.state = 'succeeded' AND b.deleted_at IS NULL AND b.purpose = 'regular') AS last_backup_at,
              (SELECT max(b.verified_at) FROM backups b
                WHERE b.site_id = s.id AND b.state = 'succeeded' AND b.deleted_at IS NULL AND b.purpose = 'regular')
                AS last_verified_backup_at
            FROM sites s WHERE (false OR tenant_id = ANY(ARRAY['\(tenant)'::uuid]))
              AND (NULL::uuid IS NULL OR tenant_id = NULL::uuid)
              AND (NULL::text IS NULL OR domain > NULL::text OR (domain = NULL::text AND id > NULL::uuid))
            ORDER BY domain, id LIMIT 50;

            """.utf8).write(to: script)
        return try PgBench.tps(
            binary: binary, script: script.path, socket: data.appendingPathComponent("postgres").path, username: "chom",
            database: "postgres", clients: connections, length: .seconds(seconds), extra: ["-M", "prepared"],
            log: data.appendingPathComponent("pgbench-sites.log").path)
    }
}

/// What wrk printed: requests per second, errors, and the latency percentiles of `--latency`.
struct WrkResult {
    var rate: Double
    var p50: Double
    var p99: Double
    var non2xx: Int
    var socketErrors: Int
    var text: String

    init(log: String) throws {
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        let lines = text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        func field(_ prefix: String) -> String? {
            lines.first { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)).trimmingCharacters(in: .whitespaces) }
        }
        guard let rate = field("Requests/sec:").flatMap(Double.init), let p50 = field("50%").flatMap(Self.milliseconds),
            let p99 = field("99%").flatMap(Self.milliseconds)
        else { throw ChildFailure(description: "wrk printed no rate or latency: \(text.suffix(1000))") }
        self.rate = rate
        self.p50 = p50
        self.p99 = p99
        // "Non-2xx or 3xx responses: N" and "Socket errors: connect A, read B, write C, timeout D".
        non2xx = Int(field("Non-2xx or 3xx responses:") ?? "0") ?? 0
        socketErrors = field("Socket errors:").map {
            $0.split(separator: ",").compactMap { Int($0.split(separator: " ").last ?? "") }.reduce(0, +)
        } ?? 0
        self.text = text
    }

    /// "1.23ms", "850.00us", "1.02s" in milliseconds.
    static func milliseconds(_ text: String) -> Double? {
        let units: [(String, Double)] = [("us", 0.001), ("ms", 1), ("s", 1000), ("m", 60_000)]
        for (unit, scale) in units where text.hasSuffix(unit) {
            if let value = Double(text.dropLast(unit.count)) { return value * scale }
        }
        return nil
    }
}
