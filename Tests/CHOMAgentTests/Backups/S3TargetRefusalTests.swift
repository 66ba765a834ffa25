import CHOMAgent
import CHOMBackup
import CHOMCore
import Foundation
import Logging
import Testing

/// Key checks and configuration checks: no server involved, and none needed.
@Suite("S3 backup target refusals")
struct S3TargetRefusalTests {
    /// Port 1 on loopback: any request that were made would fail as `.unavailable`, not `.invalidInput`.
    static func target() throws -> S3Target {
        try S3Target(
            configuration: .init(
                endpoint: URL(string: "http://127.0.0.1:1")!, region: "us-east-1", bucket: "chom-backups",
                credentials: .init(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "secret")),
            logger: Logger(label: "chom.test.s3"))
    }

    @Test(
        "bad keys are refused before any request",
        arguments: ["", "../x", "a/../b", "/abs/x", "./a", "a//b", "a/", "a/..", "a\\b", "a\nb"])
    func badKeys(key: String) async throws {
        let target = try Self.target()
        let file = URL(fileURLWithPath: "/dev/null")
        for error in [
            await #expect(throws: CHOMError.self) { try await target.put(file: file, key: key) },
            await #expect(throws: CHOMError.self) {
                try await target.get(key: key, to: URL(fileURLWithPath: "/tmp/never"))
            },
            await #expect(throws: CHOMError.self) { try await target.delete(key: key) },
        ] {
            #expect(error?.code == .invalidInput)
        }
    }

    @Test("bad listing prefixes are refused before any request", arguments: ["../", "/abs", "a/../", "a//"])
    func badPrefixes(prefix: String) async throws {
        let target = try Self.target()
        let error = await #expect(throws: CHOMError.self) { try await target.list(prefix: prefix) }
        #expect(error?.code == .invalidInput)
    }

    @Test("configurations S3 cannot work with are refused, and none prints the secret")
    func badConfigurations() throws {
        let good = try Self.target().configuration
        #expect(!"\(good)".contains("secret"))
        var small = good
        small.partSize = 1024 * 1024
        var ftp = good
        ftp.endpoint = URL(string: "ftp://127.0.0.1")!
        var bucket = good
        bucket.bucket = "A/B"
        var prefix = good
        prefix.keyPrefix = "../up"
        for configuration in [small, ftp, bucket, prefix] {
            let error = #expect(throws: CHOMError.self) { try configuration.validate() }
            #expect(error?.code == .configuration)
        }
    }

    @Test("a missing source file fails the upload")
    func missingFile() async throws {
        let error = await #expect(throws: CHOMError.self) {
            try await Self.target().put(file: URL(fileURLWithPath: "/nonexistent/backup.tar.zst"), key: "t/x")
        }
        #expect(error?.code == .notFound)
    }
}
