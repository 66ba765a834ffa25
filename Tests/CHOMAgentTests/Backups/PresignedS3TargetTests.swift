import CHOMAgent
import CHOMBackup
import CHOMCore
import CHOMTesting
import Foundation
import Logging
import Synchronization
import Testing

/// The agent's side of object storage: `PresignedS3Target` with URLs presigned for one object, against
/// moto. (moto accepts presigned URLs without checking their signatures; the signature checks,
/// other key, expiry, wrong secret, are shown against a verifying server in `PresignedURLVerificationTests`.)
@Suite("Presigned S3 target against moto", .serialized)
struct PresignedS3TargetTests {
    static let logger = Logger(label: "chom.test.presigned")

    /// A target for `key` whose URLs come from `bucket` (the coordinator's credentials), counting calls.
    static func target(
        _ bucket: S3Target, key: String, asked: Calls, failOn: String? = nil
    ) throws -> PresignedS3Target {
        try PresignedS3Target(
            objectKey: key, multipartThreshold: 5 * 1024 * 1024, partSize: 5 * 1024 * 1024, logger: logger
        ) { operation in
            asked.append(operation.description)
            if let failOn, operation.description.hasPrefix(failOn) {
                throw CHOMError(.unavailable, "the coordinator is away")
            }
            return try bucket.presign(operation, key: key, lifetimeSeconds: 120, now: Date())
        }
    }

    @Test("a small archive goes up in one presigned PUT and comes back; the target touches no other key")
    func single() async throws {
        try await MotoServer.with(checkSignatures: false) { moto in
            let bucket = try S3Target(configuration: moto.configuration(bucket: "chom-backups"), logger: Self.logger)
            let asked = Calls()
            let target = try Self.target(bucket, key: "t/site.test/b1.tar.zst", asked: asked)
            try await withFiles { directory in
                let bytes = randomBytes(300_000)
                let result = try await target.upload(file: try write(bytes, to: directory, "a"), key: "t/site.test/b1.tar.zst")
                #expect(!result.multipart)
                let back = directory.appendingPathComponent("back")
                try await target.get(key: "t/site.test/b1.tar.zst", to: back)
                #expect(try Data(contentsOf: back) == Data(bytes))
                #expect(asked.names == ["PutObject", "GetObject"])

                let other = try await #require(throws: CHOMError.self) {
                    try await target.put(file: try write(bytes, to: directory, "b"), key: "t/other.test/b1.tar.zst")
                }
                #expect(other.code == .forbidden)
                await #expect(throws: CHOMError.self) { try await target.delete(key: "t/site.test/b1.tar.zst") }
                await #expect(throws: CHOMError.self) { _ = try await target.list(prefix: "") }
                #expect(asked.names == ["PutObject", "GetObject"], "refused before asking the coordinator")
                #expect(try await bucket.list(prefix: "").map(\.key) == ["t/site.test/b1.tar.zst"])
            }
        }
    }

    @Test("a 22 MiB archive goes up as 5 presigned parts, asked for in batches, and round-trips")
    func multipart() async throws {
        try await MotoServer.with(checkSignatures: false) { moto in
            let bucket = try S3Target(configuration: moto.configuration(bucket: "chom-backups"), logger: Self.logger)
            let asked = Calls()
            let target = try Self.target(bucket, key: "t/big.test/b.tar.zst", asked: asked)
            try await withFiles { directory in
                let bytes = randomBytes(22 * 1024 * 1024 + 7)
                let result = try await target.upload(file: try write(bytes, to: directory, "big"), key: "t/big.test/b.tar.zst")
                #expect(result.multipart)
                #expect(result.partCount == 5)
                #expect(asked.names == ["CreateMultipartUpload", "UploadPart ×5", "CompleteMultipartUpload"])
                let back = directory.appendingPathComponent("back")
                try await target.get(key: "t/big.test/b.tar.zst", to: back)
                #expect(try Data(contentsOf: back) == Data(bytes))
                #expect(try await bucket.pendingUploads(prefix: "").isEmpty)
            }
        }
    }

    @Test("when the coordinator stops presigning half-way, the upload is aborted: no object, no pending upload")
    func aborted() async throws {
        try await MotoServer.with(checkSignatures: false) { moto in
            let bucket = try S3Target(configuration: moto.configuration(bucket: "chom-backups"), logger: Self.logger)
            let asked = Calls()
            let target = try Self.target(bucket, key: "t/big.test/c.tar.zst", asked: asked, failOn: "CompleteMultipartUpload")
            try await withFiles { directory in
                let source = try write(randomBytes(11 * 1024 * 1024), to: directory, "big")
                let error = try await #require(throws: CHOMError.self) {
                    try await target.put(file: source, key: "t/big.test/c.tar.zst")
                }
                #expect(error.message.contains("the coordinator is away"))
                #expect(asked.names.last == "AbortMultipartUpload")
                #expect(try await bucket.list(prefix: "").isEmpty)
                #expect(try await bucket.pendingUploads(prefix: "").isEmpty)
            }
        }
    }
}

/// The operations a presigned target asked for, in order.
final class Calls: Sendable {
    private let storage = Mutex<[String]>([])
    func append(_ name: String) { storage.withLock { $0.append(name) } }
    var names: [String] { storage.withLock { $0 } }
}
