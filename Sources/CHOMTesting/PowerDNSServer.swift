package import AsyncHTTPClient
import CHOMCore
package import CHOMDNS
package import Foundation
package import Logging
import NIOCore
import NIOHTTP1

#if canImport(Glibc)
    import Glibc
#endif

/// A real PowerDNS Authoritative server (Debian `pdns-server` with the sqlite3 backend) as a
/// child process for one test: its own config directory, a fresh sqlite3 database made from the
/// schema Debian ships, the HTTP API on a free loopback port with a random key, and DNS on a free
/// port on `addresses` (loopback by default; the namespace harness adds its bridge address).
/// The security poll is off, so nothing it does leaves the machine.
package struct PowerDNSServer: Sendable {
    /// `http://127.0.0.1:<port>`.
    package let apiURL: URL
    package let apiKey: String
    /// The DNS (UDP and TCP) port on every address in `addresses`.
    package let dnsPort: Int
    package let addresses: [String]
    let directory: URL
    let pid: pid_t

    /// Starts a server, runs `body`, stops it (also when `body` throws).
    package static func with<Result: Sendable>(
        addresses: [String] = ["127.0.0.1"], _ body: (PowerDNSServer) async throws -> Result
    ) async throws -> Result {
        let server = try await start(addresses: addresses)
        do {
            let result = try await body(server)
            await server.stop()
            return result
        } catch {
            await server.stop()
            throw error
        }
    }

    /// Starts a server and waits until its API answers (at most 20 s). A port taken between the
    /// check and the bind makes pdns exit; that is retried with other ports.
    package static func start(addresses: [String] = ["127.0.0.1"]) async throws -> PowerDNSServer {
        let binary = try locate()
        var lastError: any Error = CHOMError(.unavailable, "pdns_server did not start")
        for _ in 0..<3 {
            let directory = try TemporaryDirectory.make(prefix: "chom-pdns")
            do {
                let server = try await launch(binary: binary, directory: directory, addresses: addresses)
                return server
            } catch {
                lastError = error
                let log = (try? String(contentsOf: directory.appendingPathComponent("pdns.log"), encoding: .utf8)) ?? ""
                TemporaryDirectory.remove(directory)
                guard log.contains("Unable to bind") || log.contains("Address already in use") else {
                    if !log.isEmpty { print("pdns_server output:\n" + log.suffix(4_000)) }
                    throw error
                }
            }
        }
        throw lastError
    }

    /// Kills the server and deletes its directory. SIGKILL at once: its database is thrown away,
    /// and a child of the test process inherits a signal mask that blocks SIGTERM, so SIGTERM would
    /// only wait out the grace.
    package func stop() async {
        kill(-pid, SIGKILL)
        await BackgroundServer.stop(pid, grace: .seconds(2))
        TemporaryDirectory.remove(directory)
    }

    /// A provider for this server with its real key.
    package func provider(
        httpClient: HTTPClient = .shared, logger: Logger = Logger(label: "chom.test.pdns")
    ) throws -> PowerDNSProvider {
        try PowerDNSProvider(
            configuration: .init(apiURL: apiURL, apiKey: apiKey, requestTimeout: .seconds(10)), httpClient: httpClient,
            logger: logger)
    }

    /// The config file's text: everything on the command line would show the key in `ps`.
    static func configuration(
        directory: URL, database: URL, apiKey: String, apiPort: Int, dnsPort: Int, addresses: [String]
    ) -> String {
        """
        launch=gsqlite3
        gsqlite3-database=\(database.path)
        api=yes
        api-key=\(apiKey)
        webserver=yes
        webserver-address=127.0.0.1
        webserver-port=\(apiPort)
        webserver-allow-from=127.0.0.0/8
        local-address=\(addresses.joined(separator: ", "))
        local-port=\(dnsPort)
        socket-dir=\(directory.path)
        guardian=no
        daemon=no
        disable-syslog=yes
        security-poll-suffix=
        receiver-threads=1
        distributor-threads=1

        """
    }

    private static func launch(binary: String, directory: URL, addresses: [String]) async throws -> PowerDNSServer {
        let database = directory.appendingPathComponent("pdns.sqlite3")
        try await initializeDatabase(database)
        let apiKey = "chom-test-" + (0..<4).map { _ in String(UInt64.random(in: .min ... .max), radix: 36) }.joined()
        let apiPort = try FreePort.next()
        var dnsPort = try FreePort.next()
        while dnsPort == apiPort { dnsPort = try FreePort.next() }
        let text = configuration(
            directory: directory, database: database, apiKey: apiKey, apiPort: apiPort, dnsPort: dnsPort,
            addresses: addresses)
        let config = directory.appendingPathComponent("pdns.conf")
        try text.write(to: config, atomically: true, encoding: .utf8)
        chmod(config.path, 0o600)
        let log = directory.appendingPathComponent("pdns.log").path
        let pid = try BackgroundServer.spawn(binary, ["--config-dir=\(directory.path)"], log: log)
        let server = PowerDNSServer(
            apiURL: URL(string: "http://127.0.0.1:\(apiPort)")!, apiKey: apiKey, dnsPort: dnsPort, addresses: addresses,
            directory: directory, pid: pid)
        do {
            try await server.waitUntilAnswering(deadline: .seconds(20))
            return server
        } catch {
            await BackgroundServer.stop(pid, grace: .seconds(2))
            throw error
        }
    }

    /// Polls the API with the key until it answers 200; gives up early if pdns exited.
    private func waitUntilAnswering(deadline: Duration) async throws {
        let end = ContinuousClock.now + deadline
        var request = HTTPClientRequest(url: apiURL.absoluteString + "/api/v1/servers/localhost")
        request.headers.add(name: "X-API-Key", value: apiKey)
        while true {
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid {
                throw CHOMError(.unavailable, "pdns_server exited during start (status \(status))")
            }
            // async-http-client retries a refused connection until the deadline: keep each attempt short.
            if let response = try? await HTTPClient.shared.execute(request, timeout: .milliseconds(250)) {
                _ = try? await response.body.collect(upTo: 1 << 20)
                if response.status.code == 200 { return }
            }
            guard ContinuousClock.now < end else {
                throw CHOMError(.unavailable, "pdns_server did not answer on \(apiURL) within \(deadline)")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// A fresh sqlite3 database with the gsqlite3 schema of the installed package.
    private static func initializeDatabase(_ database: URL) async throws {
        let candidates = [
            "/usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql",
            "/usr/share/doc/pdns-backend-sqlite3/schema.sqlite3.sql",
        ]
        guard let schema = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) else {
            throw CHOMError(
                .unavailable, "the PowerDNS sqlite3 schema is missing: run scripts/install-deps.sh (pdns-backend-sqlite3)")
        }
        guard let sqlite = ["/usr/bin/sqlite3", "/bin/sqlite3"].first(where: FileManager.default.isExecutableFile) else {
            throw CHOMError(.unavailable, "sqlite3 is missing: run scripts/install-deps.sh")
        }
        let result = try await TestCommand.run(sqlite, [database.path, ".read \(schema)"], timeout: .seconds(20))
        guard result.status == 0 else {
            throw CHOMError(.unavailable, "sqlite3 could not create the PowerDNS database: \(result.output.suffix(500))")
        }
    }

    /// `pdns_server`: `CHOM_PDNS_SERVER`, else `/usr/sbin/pdns_server` (Debian `pdns-server`).
    static func locate() throws -> String {
        let path = ProcessInfo.processInfo.environment["CHOM_PDNS_SERVER"] ?? "/usr/sbin/pdns_server"
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw CHOMError(
                .unavailable,
                "pdns_server not found at \(path): run scripts/install-deps.sh (pdns-server, pdns-backend-sqlite3)")
        }
        return path
    }
}
