import AsyncHTTPClient
import CHOMAgent
import CHOMBackup
import CHOMCore
import CHOMTesting
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import Testing

/// Presigned URLs against a server that verifies them (LocalStack's S3 with signature validation
/// on; moto 5.2.5 does not check presigned signatures). What the coordinator signs is good for
/// exactly one method on one object until it expires, and nothing else.
/// Needs `scripts/install-localstack.sh` (or CHOM_LOCALSTACK_SERVER); without it these fail.
@Suite("Presigned URLs against a verifying S3 server (LocalStack)", .serialized)
struct PresignedURLVerificationTests {
    static let logger = Logger(label: "chom.test.presign-verify")

    /// The answer to `method url` with `body`: status and S3 error code.
    static func send(_ method: String, _ url: String, body: [UInt8] = []) async throws -> (status: Int, code: String) {
        var request = HTTPClientRequest(url: url)
        request.method = HTTPMethod(rawValue: method)
        request.headers.add(name: "content-type", value: "application/octet-stream")
        if !body.isEmpty { request.body = .bytes(ByteBuffer(bytes: body)) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let text = String(buffer: try await response.body.collect(upTo: 1 << 20))
        let code = text.range(of: "<Code>").flatMap { start in
            text.range(of: "</Code>", range: start.upperBound..<text.endIndex).map { String(text[start.upperBound..<$0.lowerBound]) }
        } ?? ""
        return (Int(response.status.code), code)
    }

    @Test("a URL for object A writes A and cannot write B; an expired URL and one signed with a wrong secret are refused")
    func scope() async throws {
        try await LocalStackS3Server.with(bucket: "fleet-backups") { server in
            let bucket = try S3Target(configuration: server.configuration(bucket: "fleet-backups", keyPrefix: "fleet"), logger: Self.logger)
            let now = Date()
            let forA = try bucket.presign(.put, key: "t1/a.test/1.tar.zst", lifetimeSeconds: 300, now: now)[0]
            #expect(try await Self.send("PUT", forA.url, body: Array("archive A".utf8)).status == 200)

            // The same signature on another key, or with a longer lifetime: refused, nothing written.
            let forB = forA.url.replacingOccurrences(of: "/t1/a.test/", with: "/t2/b.test/")
            #expect(try await Self.send("PUT", forB, body: Array("forged".utf8)) == (403, "SignatureDoesNotMatch"))
            let longer = forA.url.replacingOccurrences(of: "X-Amz-Expires=300", with: "X-Amz-Expires=604800")
            #expect(try await Self.send("PUT", longer, body: Array("later".utf8)) == (403, "SignatureDoesNotMatch"))
            // A PUT URL is not a DELETE URL.
            #expect(try await Self.send("DELETE", forA.url).status == 403)
            let keys = try await bucket.list(prefix: "").map(\.key)
            #expect(keys == ["t1/a.test/1.tar.zst"], "only A exists: \(keys)")

            // Expired: signed an hour ago for 60 s.
            let expired = try bucket.presign(.get, key: "t1/a.test/1.tar.zst", lifetimeSeconds: 60, now: now.addingTimeInterval(-3600))[0]
            #expect(try await Self.send("GET", expired.url) == (403, "AccessDenied"))

            // Signed with a secret that is not the bucket's.
            var wrong = server.configuration(bucket: "fleet-backups", keyPrefix: "fleet")
            wrong.credentials = .init(accessKeyID: server.accessKeyID, secretAccessKey: "not-the-secret")
            let forged = try S3Target(configuration: wrong, logger: Self.logger)
                .presign(.get, key: "t1/a.test/1.tar.zst", lifetimeSeconds: 300, now: now)[0]
            #expect(try await Self.send("GET", forged.url) == (403, "SignatureDoesNotMatch"))

            // The genuine GET reads A back.
            let get = try bucket.presign(.get, key: "t1/a.test/1.tar.zst", lifetimeSeconds: 300, now: now)[0]
            #expect(try await Self.send("GET", get.url).status == 200)
        }
    }

    @Test("a part URL is for one part of one upload: another part number is refused; the agent's multipart upload verifies end to end")
    func multipart() async throws {
        try await LocalStackS3Server.with(bucket: "fleet-backups") { server in
            let bucket = try S3Target(configuration: server.configuration(bucket: "fleet-backups"), logger: Self.logger)
            let key = "t1/big.test/2.tar.zst"
            let calls = Calls()
            let target = try PresignedS3Target(
                objectKey: key, multipartThreshold: 5 * 1024 * 1024, partSize: 5 * 1024 * 1024, logger: Self.logger
            ) { operation in
                calls.append(operation.description)
                return try bucket.presign(operation, key: key, lifetimeSeconds: 300, now: Date())
            }
            try await withFiles { directory in
                let bytes = randomBytes(11 * 1024 * 1024 + 3)
                let result = try await target.upload(file: try write(bytes, to: directory, "big"), key: key)
                #expect(result.multipart && result.partCount == 3)
                #expect(calls.names == ["CreateMultipartUpload", "UploadPart ×3", "CompleteMultipartUpload"])
                let back = directory.appendingPathComponent("back")
                try await target.get(key: key, to: back)
                #expect(try Data(contentsOf: back) == Data(bytes))
            }
            // A URL for part 1 of an upload, re-aimed at part 2: refused.
            let part = try bucket.presign(.uploadParts(uploadID: "any-upload", partNumbers: [1]), key: key, lifetimeSeconds: 300, now: Date())[0]
            let other = part.url.replacingOccurrences(of: "partNumber=1", with: "partNumber=2")
            #expect(try await Self.send("PUT", other, body: [1, 2, 3]) == (403, "SignatureDoesNotMatch"))
        }
    }
}
