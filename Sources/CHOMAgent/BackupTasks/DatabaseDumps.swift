package import CHOMCore
package import CHOMProtocol
package import Foundation

/// A site's database into and out of a backup: `pg_dump` (plain SQL, no owners) and `psql`
/// for PostgreSQL, `mysqldump` and `mysql` for MySQL. The password goes in the environment
/// (PGPASSWORD / MYSQL_PWD), never on a command line.
package struct DatabaseDumps: Sendable {
    package var timeout: Duration = .seconds(3600)

    package init() {}

    package func dump(_ database: Chom_Agent_V1_SiteDatabase, to file: URL) async throws {
        switch database.engine {
        case .postgresql:
            try await run("/usr/bin/pg_dump", ["--format=plain", "--no-owner", "--no-privileges", "--file=\(file.path)",
                "--dbname=\(database.connection)"], database: database, what: "pg_dump")
        case .mysql:
            let (host, port, name, user) = try mysql(database.connection)
            try await run("/usr/bin/mysqldump", ["--single-transaction", "--result-file=\(file.path)", "--host=\(host)",
                "--port=\(port)", "--user=\(user)", "--", name], database: database, what: "mysqldump")
        case .none, .UNRECOGNIZED:
            throw CHOMError(.invalidInput, "no database engine to dump")
        }
    }

    package func restore(_ database: Chom_Agent_V1_SiteDatabase, from file: URL) async throws {
        switch database.engine {
        case .postgresql:
            try await run("/usr/bin/psql", ["--no-psqlrc", "--quiet", "--set=ON_ERROR_STOP=1", "--single-transaction",
                "--file=\(file.path)", "--dbname=\(database.connection)"], database: database, what: "psql")
        case .mysql:
            let (host, port, name, user) = try mysql(database.connection)
            try await run("/bin/sh", ["-c", "exec /usr/bin/mysql --host=\"$1\" --port=\"$2\" --user=\"$3\" \"$4\" < \"$5\"", "mysql",
                host, port, user, name, file.path], database: database, what: "mysql")
        case .none, .UNRECOGNIZED:
            throw CHOMError(.invalidInput, "no database engine to restore")
        }
    }

    /// `host:port/name` with the user before an `@`: `user@host:port/name`.
    private func mysql(_ connection: String) throws(CHOMError) -> (String, String, String, String) {
        let parts = connection.split(separator: "@", maxSplits: 1).map(String.init)
        guard parts.count == 2, let slash = parts[1].firstIndex(of: "/") else {
            throw CHOMError(.invalidInput, "a MySQL connection is user@host:port/database")
        }
        let address = parts[1][..<slash].split(separator: ":").map(String.init)
        let name = String(parts[1][parts[1].index(after: slash)...])
        guard let host = address.first, !name.isEmpty, !name.hasPrefix("-"), !parts[0].hasPrefix("-"), !host.hasPrefix("-") else {
            throw CHOMError(.invalidInput, "a MySQL connection is user@host:port/database")
        }
        return (host, address.count > 1 ? address[1] : "3306", name, parts[0])
    }

    private func run(_ executable: String, _ arguments: [String], database: Chom_Agent_V1_SiteDatabase, what: String) async throws {
        guard !database.connection.hasPrefix("-") else { throw CHOMError(.invalidInput, "the database connection must not start with '-'") }
        var environment = ["PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": "/nonexistent"]
        if !database.password.isEmpty {
            environment[database.engine == .mysql ? "MYSQL_PWD" : "PGPASSWORD"] = database.password
        }
        let outcome = try await CommandRunner().run(CommandRunner.Command(executable, arguments, environment: environment, timeout: timeout))
        guard outcome.succeeded else {
            let reason = outcome.timedOut ? "timed out" : "failed (\(outcome.termination))"
            throw CHOMError(.unavailable, "\(what) \(reason): \(String(outcome.outputText.suffix(1024)))")
        }
    }
}
