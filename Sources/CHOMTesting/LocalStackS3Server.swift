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
        let pid = try BackgroundServer.spawn(
            command, ["-H", "127.0.0.1", "-p", String(port), "-d", directory.appendingPathComponent("state").path],
            log: log)
        let endpoint = URL(string: "http://127.0.0.1:\(port)")!
        do {
            try await waitUntilRunning(endpoint, pid: pid)
            let server = LocalStackS3Server(endpoint: endpoint)
            try await server.createBucket(bucket)
            let result = try await body(server)
            await BackgroundServer.stop(pid, grace: .seconds(2))
            return result
        } catch {
            await BackgroundServer.stop(pid, grace: .seconds(2))
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
        try BackgroundServer.locate(
            binary: "chom-localstack-s3", serverVariable: "CHOM_LOCALSTACK_SERVER", venvVariable: "CHOM_LOCALSTACK_VENV", venv: "localstack",
            installScript: "scripts/install-localstack.sh")
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
