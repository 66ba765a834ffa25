import CHOMAgent
import CHOMBackup
import CHOMCore
import CHOMTesting
import Foundation
import Logging
import Synchronization
import Testing

/// S3Target against moto's S3 server on loopback, with moto checking every SigV4 signature.
/// Needs moto_server: `scripts/install-moto.sh` (or CHOM_MOTO_SERVER); without it these fail.
@Suite("S3 backup target against moto", .serialized)
struct S3TargetTests {
    static let logger = Logger(label: "chom.test.s3")

    @Test("a small file goes up in one PUT and comes back byte-identical, replacing an existing file")
    func smallRoundTrip() async throws {
        try await MotoServer.with { moto in
            let target = try S3Target(
                configuration: moto.configuration(bucket: "chom-backups", keyPrefix: "agent-7"),
                logger: Self.logger)
            try await withFiles { directory in
                let bytes = randomBytes(200_000)
                let source = try write(bytes, to: directory, "site.tar.zst")
                let result = try await target.upload(
                    file: source, key: "tenant/site/2026-11-26T12-00-00Z-a b+c.tar.zst")
                #expect(!result.multipart)
                #expect(result.size == 200_000)
                let destination = try write([1, 2, 3], to: directory, "restored")
                try await target.get(key: "tenant/site/2026-11-26T12-00-00Z-a b+c.tar.zst", to: destination)
                #expect(try Data(contentsOf: destination) == Data(bytes))
                #expect(
                    try await target.list(prefix: "tenant/") == [
                        BackupObject(key: "tenant/site/2026-11-26T12-00-00Z-a b+c.tar.zst", size: 200_000)
                    ])
                // The key prefix is really there: a target without it sees the full key.
                let bare = try S3Target(configuration: moto.configuration(bucket: "chom-backups"), logger: Self.logger)
                #expect(
                    try await bare.list(prefix: "").map(\.key) == [
                        "agent-7/tenant/site/2026-11-26T12-00-00Z-a b+c.tar.zst"
                    ])
            }
        }
    }

    @Test("a 12 MiB file goes up as a 3-part multipart upload and round-trips")
    func multipartRoundTrip() async throws {
        try await MotoServer.with { moto in
            var configuration = moto.configuration(bucket: "chom-backups")
            configuration.multipartThreshold = 5 * 1024 * 1024
            configuration.partSize = 5 * 1024 * 1024
            let parts = Mutex<[Int]>([])
            let target = try S3Target(configuration: configuration, logger: Self.logger) { number, count in
                parts.withLock { $0.append(number) }
                #expect(count == 3)
            }
            try await withFiles { directory in
                let bytes = randomBytes(12 * 1024 * 1024 + 12_345)
                let source = try write(bytes, to: directory, "big")
                let result = try await target.upload(file: source, key: "t/big.tar.zst")
                #expect(result.multipart)
                #expect(result.partCount == 3)
                #expect(parts.withLock { $0 } == [1, 2, 3])
                #expect(
                    result.etag?.hasSuffix("-3\"") == true,
                    "moto's multipart ETag ends in -<parts>: \(result.etag ?? "nil")")
                let destination = directory.appendingPathComponent("restored")
                try await target.get(key: "t/big.tar.zst", to: destination)
                #expect(try Data(contentsOf: destination) == Data(bytes))
                #expect(
                    try await target.list(prefix: "t/") == [
                        BackupObject(key: "t/big.tar.zst", size: UInt64(bytes.count))
                    ])
                #expect(try await target.pendingUploads(prefix: "").isEmpty)
            }
        }
    }

    @Test("listing follows continuation tokens and keeps to the prefix")
    func listPagination() async throws {
        try await MotoServer.with { moto in
            var configuration = moto.configuration(bucket: "chom-backups", keyPrefix: "p")
            configuration.listPageSize = 2
            let target = try S3Target(configuration: configuration, logger: Self.logger)
            try await withFiles { directory in
                var expected: [BackupObject] = []
                for index in 0..<7 {
                    let source = try write(randomBytes(index * 10), to: directory, "f\(index)")
                    let key = "\(index < 5 ? "a" : "b")/2026-11-2\(index)T00-00-00Z.tar.zst"
                    try await target.put(file: source, key: key)
                    if index < 5 { expected.append(BackupObject(key: key, size: UInt64(index * 10))) }
                }
                #expect(try await target.list(prefix: "a/") == expected)
                #expect(try await target.list(prefix: "").count == 7)
                #expect(try await target.list(prefix: "b/2026-11-25").map(\.key) == ["b/2026-11-25T00-00-00Z.tar.zst"])
                #expect(try await target.list(prefix: "c/").isEmpty)
            }
        }
    }

    @Test("delete removes the object; getting it then fails with NoSuchKey and creates no file")
    func deleteObject() async throws {
        try await MotoServer.with { moto in
            let target = try S3Target(configuration: moto.configuration(bucket: "chom-backups"), logger: Self.logger)
            try await withFiles { directory in
                try await target.put(file: try write(randomBytes(1000), to: directory, "f"), key: "t/x")
                try await target.delete(key: "t/x")
                #expect(try await target.list(prefix: "t/").isEmpty)
                let destination = directory.appendingPathComponent("restored")
                let error = try await #require(throws: CHOMError.self) {
                    try await target.get(key: "t/x", to: destination)
                }
                #expect(error.code == .notFound)
                #expect(error.message.contains("NoSuchKey"))
                #expect(!FileManager.default.fileExists(atPath: destination.path))
            }
        }
    }

    @Test("a wrong secret fails with SignatureDoesNotMatch, and the secret appears nowhere")
    func wrongSecret() async throws {
        try await MotoServer.with { moto in
            let secret = "wrong-secret-Zq8XvT3pL0"
            var configuration = moto.configuration(bucket: "chom-backups")
            configuration.credentials = .init(accessKeyID: moto.accessKeyID, secretAccessKey: secret)
            let target = try S3Target(configuration: configuration, logger: Self.logger)
            try await withFiles { directory in
                let source = try write(randomBytes(1000), to: directory, "f")
                let error = try await #require(throws: CHOMError.self) {
                    try await target.put(file: source, key: "t/x")
                }
                #expect(error.code == .unauthorized)
                #expect(error.description.contains("SignatureDoesNotMatch"))
                for text in [
                    error.description, String(reflecting: error), "\(configuration)", String(reflecting: configuration),
                ] {
                    #expect(!text.contains(secret))
                    #expect(!text.contains(moto.secretAccessKey))
                }
                await #expect(throws: CHOMError.self) { try await target.list(prefix: "") }
            }
        }
    }

    @Test("a multipart upload that fails part-way is aborted and leaves no object and no pending upload")
    func abortedMultipart() async throws {
        try await MotoServer.with { moto in
            var configuration = moto.configuration(bucket: "chom-backups")
            configuration.multipartThreshold = 5 * 1024 * 1024
            configuration.partSize = 5 * 1024 * 1024
            struct Interrupted: Error {}
            let target = try S3Target(configuration: configuration, logger: Self.logger) { number, _ in
                if number == 2 { throw Interrupted() }
            }
            try await withFiles { directory in
                let source = try write(randomBytes(11 * 1024 * 1024), to: directory, "big")
                await #expect(throws: Interrupted.self) { try await target.put(file: source, key: "t/big") }
                #expect(try await target.list(prefix: "").isEmpty)
                #expect(try await target.pendingUploads(prefix: "").isEmpty)
                let error = try await #require(throws: CHOMError.self) {
                    try await target.get(key: "t/big", to: directory.appendingPathComponent("restored"))
                }
                #expect(error.code == .notFound)
            }
        }
    }
}

func randomBytes(_ count: Int) -> [UInt8] {
    var generator = SystemRandomNumberGenerator()
    var bytes = [UInt8](repeating: 0, count: count)
    bytes.withUnsafeMutableBytes { buffer in
        var offset = 0
        while offset < count {
            withUnsafeBytes(of: generator.next() as UInt64) { word in
                for byte in word where offset < count {
                    buffer[offset] = byte
                    offset += 1
                }
            }
        }
    }
    return bytes
}

func write(_ bytes: [UInt8], to directory: URL, _ name: String) throws -> URL {
    let url = directory.appendingPathComponent(name)
    try Data(bytes).write(to: url)
    return url
}

func withFiles(_ body: (URL) async throws -> Void) async throws {
    let directory = try TemporaryDirectory.make(prefix: "chom-s3")
    defer { TemporaryDirectory.remove(directory) }
    try await body(directory)
}
