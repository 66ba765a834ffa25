import CHOMCore
package import Foundation
package import Logging

/// A PostgreSQL cluster that CHOM runs itself under a directory: initdb on first
/// use, reused afterwards, stopped on shutdown. It listens on a unix socket in that
/// directory only (no TCP), with trust auth: the directory's 0700 owner is the wall.
/// When started as root, initdb and postgres run as the unprivileged `postgres` user.
package final class EmbeddedPostgres: Sendable {
    package struct Options: Sendable {
        /// Faster and unsafe on power loss; for throwaway test clusters only.
        package var disableFsync = false
        package var port = 5432
        package var runAsUser = "postgres"
        package init() {}
    }

    package let directory: URL
    package let options: Options
    private let logger: Logger

    package var dataDirectory: URL { directory.appendingPathComponent("data") }
    package var socketDirectory: String { directory.path }
    package var socketPath: String { "\(directory.path)/.s.PGSQL.\(options.port)" }
    package let username = "chom"
    package let database = "postgres"

    package init(directory: URL, options: Options = Options(), logger: Logger) {
        self.directory = directory.standardizedFileURL
        self.options = options
        self.logger = logger
    }

    /// Initializes the cluster if needed and starts it. Returns once it accepts connections.
    package func start() throws {
        let tools = try PostgresTools.locate()
        let asRoot = geteuid() == 0
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        guard socketPath.utf8.count < 100 else {
            throw CHOMError(.configuration, "embedded PostgreSQL directory path is too long for a unix socket: \(directory.path)")
        }
        if asRoot { try handOver(to: options.runAsUser) }
        chmod(directory.path, 0o700)
        if !FileManager.default.fileExists(atPath: dataDirectory.appendingPathComponent("PG_VERSION").path) {
            logger.info("initializing embedded PostgreSQL", metadata: [LogKey.path: "\(dataDirectory.path)"])
            try run(tools.initdb, [
                "-D", dataDirectory.path, "-U", username, "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync",
            ], asRoot: asRoot)
        }
        var serverOptions = "-p \(options.port) -k \(directory.path) -c listen_addresses= -c max_connections=100"
        if options.disableFsync { serverOptions += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off" }
        try run(tools.pgCtl, [
            "-D", dataDirectory.path, "-l", directory.appendingPathComponent("server.log").path, "-w", "-t", "60",
            "-o", serverOptions, "start",
        ], asRoot: asRoot)
        logger.info("embedded PostgreSQL started", metadata: [LogKey.path: "\(socketPath)"])
    }

    /// Stops the cluster. `immediate` skips the shutdown checkpoint (throwaway clusters).
    package func stop(immediate: Bool = false) {
        guard let tools = try? PostgresTools.locate() else { return }
        let mode = immediate ? "immediate" : "fast"
        do {
            try run(tools.pgCtl, ["-D", dataDirectory.path, "-m", mode, "-w", "stop"], asRoot: geteuid() == 0)
            logger.info("embedded PostgreSQL stopped")
        } catch {
            logger.warning("embedded PostgreSQL did not stop cleanly", metadata: [LogKey.error: "\(error)"])
        }
    }

    private func handOver(to user: String) throws {
        guard let entry = getpwnam(user) else {
            throw CHOMError(.configuration, "running as root, but the user '\(user)' for PostgreSQL does not exist")
        }
        let uid = entry.pointee.pw_uid
        let gid = entry.pointee.pw_gid
        if chown(directory.path, uid, gid) != 0 {
            throw CHOMError(.configuration, "cannot hand \(directory.path) to user \(user)")
        }
        // The user must be able to reach the directory through its parents.
        var parent = directory.deletingLastPathComponent()
        while parent.path != "/" {
            var info = stat()
            if stat(parent.path, &info) == 0, info.st_mode & 0o001 == 0 {
                throw CHOMError(
                    .configuration,
                    "embedded PostgreSQL runs as '\(user)', who cannot enter \(parent.path); choose a data directory outside it")
            }
            parent = parent.deletingLastPathComponent()
        }
    }

    private func run(_ tool: String, _ arguments: [String], asRoot: Bool) throws {
        let outcome = asRoot
            ? try ChildProcess.run("/usr/sbin/runuser", ["-u", options.runAsUser, "--", tool] + arguments)
            : try ChildProcess.run(tool, arguments)
        guard outcome.status == 0 else {
            let name = (tool as NSString).lastPathComponent
            throw CHOMError(.unavailable, "\(name) failed (exit \(outcome.status)): \(outcome.output.suffix(2000))")
        }
    }
}

/// Where Debian's PostgreSQL server binaries live.
package enum PostgresTools {
    package struct Paths: Sendable {
        package var initdb: String
        package var pgCtl: String
    }

    package static func locate() throws -> Paths {
        let root = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [])
            .compactMap(Int.init).sorted(by: >)
        for version in versions {
            let bin = "\(root)/\(version)/bin"
            if FileManager.default.isExecutableFile(atPath: "\(bin)/initdb") {
                return Paths(initdb: "\(bin)/initdb", pgCtl: "\(bin)/pg_ctl")
            }
        }
        throw CHOMError(.configuration, "PostgreSQL server binaries not found under \(root); apt-get install postgresql")
    }
}

extension EmbeddedPostgres {
    /// `start()` on a thread of its own: initdb and waiting for the server take a second or more,
    /// which must not hold one of the few threads of Swift's cooperative pool.
    package func startOffPool() async throws {
        try await offPool { try self.start() }
    }

    /// A fast stop (clients disconnected, a shutdown checkpoint, as `systemctl restart` does) and a
    /// start, on a thread of its own. For tests of what its clients do meanwhile.
    package func restartOffPool() async throws {
        try await offPool {
            self.stop(immediate: false)
            try self.start()
        }
    }

    private func offPool(_ work: @escaping @Sendable () throws -> Void) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            Thread.detachNewThread {
                do {
                    try work()
                    continuation.resume()
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
    }
}
