import AsyncHTTPClient
package import CHOMBackup
import CHOMCore
package import Foundation
import Logging
import NIOCore
import NIOHTTP1

#if canImport(Glibc)
    import Glibc
#endif

/// LocalStack's S3 (`chom-localstack-s3 -H 127.0.0.1 -p <free port> -d <temporary directory>`: S3 only,
/// no Docker, offline) as a child process for one test, in its own process group. Unlike moto, it
/// verifies SigV4 presigned query-string URLs: a URL whose method, path, query or signed headers were
/// changed, or that was signed with another secret, gets 403 `SignatureDoesNotMatch`; one past
/// `X-Amz-Date` + `X-Amz-Expires` gets 403 `AccessDenied` ("Request has expired").
///
/// What it does not check: requests signed in an `Authorization` header, and unsigned requests, are
/// served whatever their signature (LocalStack never verifies those), so `createBucket` and the
/// `S3Target` calls work with any key pair; a presigned URL is verified against the secret "test"
/// whatever its access key id (any id not registered in LocalStack's IAM, and none are); the payload
/// is never hashed (presigned URLs sign `UNSIGNED-PAYLOAD`; `x-amz-content-sha256` is ignored);
/// X-Amz-Expires above 7 days and an X-Amz-Date in the future are accepted.
/// Stopped (SIGTERM to the group, then SIGKILL after 2 s) when the body returns or throws.
///
/// The command: `CHOM_LOCALSTACK_SERVER`, else `$CHOM_LOCALSTACK_VENV/bin/chom-localstack-s3`, else
/// `<repository>/.build-tools/localstack/bin/chom-localstack-s3`, which `scripts/install-localstack.sh` creates.
package struct LocalStackS3Server: Sendable {
    package let endpoint: URL
    package let region = "us-east-1"
    /// Any access key id is accepted; this one is LocalStack's default.
    package let accessKeyID = "test"
    /// The only secret presigned URLs are verified against.
    package let secretAccessKey = "test"

    /// A target configuration for `bucket` on this server, path-style, with the key pair it accepts.
    package func configuration(bucket: String, keyPrefix: String = "") -> S3Target.Configuration {
        S3Target.Configuration(
            endpoint: endpoint, region: region, bucket: bucket, pathStyle: true,
            credentials: .init(accessKeyID: accessKeyID, secretAccessKey: secretAccessKey), keyPrefix: keyPrefix,
            requestTimeout: .seconds(60))
    }

    /// Creates `bucket` through `S3Target.createBucket()`.
    package func createBucket(_ bucket: String) async throws {
        try await S3Target(
            configuration: configuration(bucket: bucket), logger: Logger(label: "chom.test.localstack")
        )
        .createBucket()
    }

    /// Starts LocalStack, creates `bucket`, runs `body`, stops LocalStack and removes its files.
    package static func with<Result: Sendable>(
        bucket: String = "chom-backups", _ body: (LocalStackS3Server) async throws -> Result
    ) async throws -> Result {
        let command = try locate()
        let directory = try TemporaryDirectory.make(prefix: "chom-localstack")
        defer { TemporaryDirectory.remove(directory) }
        let port = try FreePort.next()
        let log = directory.appendingPathComponent("localstack.log").path
        let pid = try spawn(
            command, ["-H", "127.0.0.1", "-p", String(port), "-d", directory.appendingPathComponent("state").path],
            log: log)
        let endpoint = URL(string: "http://127.0.0.1:\(port)")!
        do {
            try await waitUntilRunning(endpoint, pid: pid)
            let server = LocalStackS3Server(endpoint: endpoint)
            try await server.createBucket(bucket)
            let result = try await body(server)
            await stop(pid)
            return result
        } catch {
            await stop(pid)
            let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            if !output.isEmpty { print("chom-localstack-s3 output:\n" + output.suffix(4_000)) }
            throw error
        }
    }

    /// Whether the command is installed, for tests that want to say so before calling `with`.
    package static var isInstalled: Bool { (try? locate()) != nil }

    /// The chom-localstack-s3 command, or an error (`.unavailable`) saying how to install it (the test
    /// fails; it does not skip).
    package static func locate() throws -> String {
        let environment = ProcessInfo.processInfo.environment
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let path =
            environment["CHOM_LOCALSTACK_SERVER"]
            ?? (environment["CHOM_LOCALSTACK_VENV"] ?? repository.appendingPathComponent(".build-tools/localstack").path)
            + "/bin/chom-localstack-s3"
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw CHOMError(
                .unavailable,
                "chom-localstack-s3 not found at \(path): run scripts/install-localstack.sh (it prints the "
                    + "command's path), or set CHOM_LOCALSTACK_SERVER to that command")
        }
        return path
    }

    /// Starts `executable` as the leader of a new process group, so that `stop` reaches anything it starts.
    private static func spawn(_ executable: String, _ arguments: [String], log: String) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
        posix_spawnattr_setpgroup(&attributes, 0)
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
        guard spawned == 0 else {
            throw CHOMError(.unavailable, "cannot start \(executable): \(String(cString: strerror(spawned)))")
        }
        return pid
    }

    /// SIGTERM to the process group, then SIGKILL after 2 s (LocalStack's own shutdown takes ~7 s and
    /// keeps nothing worth waiting for); waits without holding a cooperative-pool thread.
    private static func stop(_ pid: pid_t) async {
        kill(-pid, SIGTERM)
        var status: Int32 = 0
        for _ in 0..<20 {
            if waitpid(pid, &status, WNOHANG) != 0 {
                kill(-pid, SIGKILL)
                return
            }
            try? await Task.sleep(for: .milliseconds(100))
        }
        kill(-pid, SIGKILL)
        _ = waitpid(pid, &status, 0)
    }

    /// Polls LocalStack's health endpoint until S3 reports "running" (~3 s after start), or the
    /// process exits, or 60 s pass.
    private static func waitUntilRunning(_ endpoint: URL, pid: pid_t) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        var last = "no answer"
        while true {
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid {
                throw CHOMError(.unavailable, "chom-localstack-s3 exited before it was ready (status \(status))")
            }
            do {
                let response = try await HTTPClient.shared.execute(
                    HTTPClientRequest(url: endpoint.absoluteString + "/_localstack/health"), timeout: .seconds(2))
                let text = String(buffer: try await response.body.collect(upTo: 1 << 20))
                if response.status == .ok, text.contains(#""s3": "running""#) { return }
                last = "\(response.status): \(text.prefix(200))"
            } catch {
                last = "\(error)"
            }
            guard ContinuousClock.now < deadline else {
                throw CHOMError(
                    .unavailable, "LocalStack S3 was not running within 60 s", underlying: CHOMError(.internal, last))
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }
}
