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

/// moto's S3 server (`moto_server -H 127.0.0.1 -p <free port>`) as a child process for one test,
/// with SigV4 checking switched on: an IAM user with an `s3:*` policy is created, its key pair is
/// what `configuration(...)` hands out, and from then on moto rejects bad signatures as S3 does.
/// Stopped (SIGTERM, then SIGKILL) when the body returns or throws.
///
/// The binary: `CHOM_MOTO_SERVER`, else `$CHOM_MOTO_VENV/bin/moto_server`, else
/// `<repository>/.build-tools/moto/bin/moto_server`, which `scripts/install-moto.sh` creates.
package struct MotoServer: Sendable {
    package let endpoint: URL
    package let region = "us-east-1"
    package let accessKeyID: String
    /// The IAM user's secret, for tests that check it never shows up anywhere.
    package let secretAccessKey: String

    /// A target configuration for `bucket` on this server, path-style, with the real key pair.
    package func configuration(bucket: String, keyPrefix: String = "") -> S3Target.Configuration {
        S3Target.Configuration(
            endpoint: endpoint, region: region, bucket: bucket, pathStyle: true,
            credentials: .init(accessKeyID: accessKeyID, secretAccessKey: secretAccessKey), keyPrefix: keyPrefix,
            requestTimeout: .seconds(60))
    }

    /// Starts moto, creates `bucket` through `S3Target.createBucket()`, runs `body`, stops moto.
    ///
    /// `checkSignatures: false` leaves moto's IAM checks off: moto 5.2.5 cannot take a presigned
    /// (query-string) request while they are on (it looks for an Authorization header and answers
    /// 500), and with them off it accepts presigned URLs without checking them. Tests of presigned
    /// requests use it for the storage behaviour; the signature checks themselves are shown
    /// against a server that verifies them (`LocalStackS3`).
    package static func with<Result: Sendable>(
        bucket: String = "chom-backups", checkSignatures: Bool = true, _ body: (MotoServer) async throws -> Result
    ) async throws -> Result {
        let binary = try locate()
        let directory = try TemporaryDirectory.make(prefix: "chom-moto")
        defer { TemporaryDirectory.remove(directory) }
        let port = try FreePort.next()
        let log = directory.appendingPathComponent("moto.log").path
        let pid = try BackgroundServer.spawn(binary, ["-H", "127.0.0.1", "-p", String(port)], log: log)
        let endpoint = URL(string: "http://127.0.0.1:\(port)")!
        do {
            try await waitUntilAnswering(endpoint)
            let keys = checkSignatures
                ? try await MotoIAM.enableAuthentication(endpoint: endpoint)
                : (accessKeyID: "AKIACHOMTESTNOAUTH01", secret: "moto-without-signature-checks")
            let server = MotoServer(endpoint: endpoint, accessKeyID: keys.accessKeyID, secretAccessKey: keys.secret)
            try await S3Target(
                configuration: server.configuration(bucket: bucket), logger: Logger(label: "chom.test.moto")
            )
            .createBucket()
            let result = try await body(server)
            await BackgroundServer.stop(pid, grace: .seconds(5))
            return result
        } catch {
            await BackgroundServer.stop(pid, grace: .seconds(5))
            let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            if !output.isEmpty { print("moto_server output:\n" + output.suffix(4_000)) }
            throw error
        }
    }

    /// The moto_server binary, or an error saying how to install it (the test fails; it does not skip).
    static func locate() throws -> String {
        try BackgroundServer.locate(
            binary: "moto_server", serverVariable: "CHOM_MOTO_SERVER", venvVariable: "CHOM_MOTO_VENV", venv: "moto",
            installScript: "scripts/install-moto.sh")
    }

    /// Polls moto's own API until it answers; moto needs 1-3 s to import.
    private static func waitUntilAnswering(_ endpoint: URL) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while true {
            do {
                let response = try await HTTPClient.shared.execute(
                    HTTPClientRequest(url: endpoint.absoluteString + "/moto-api/"), timeout: .seconds(2))
                _ = try await response.body.collect(upTo: 1 << 20)
                return
            } catch {
                guard ContinuousClock.now < deadline else {
                    throw CHOMError(
                        .unavailable, "moto_server did not answer within 30 s",
                        underlying: CHOMError(.internal, "\(error)"))
                }
                try await Task.sleep(for: .milliseconds(100))
            }
        }
    }
}
