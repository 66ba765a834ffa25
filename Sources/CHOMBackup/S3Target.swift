package import AsyncHTTPClient
package import CHOMCore
package import Foundation
package import Logging
import NIOCore

/// Backups in a bucket of S3-compatible storage (AWS S3, MinIO, Ceph RGW, moto). Every request
/// is signed with SigV4 and carries the payload's SHA-256; large files go up as multipart uploads
/// streamed from disk part by part; downloads stream to a file that appears only when complete.
package struct S3Target: BackupTarget {
    /// After each stored part of a multipart upload: its number and the part count. Throwing
    /// stops the upload, which is then aborted and `put` throws that error.
    package typealias PartUploaded = @Sendable (_ partNumber: Int, _ partCount: Int) async throws -> Void

    package let configuration: Configuration
    package var onPartUploaded: PartUploaded?
    let client: S3Client
    /// `configuration.keyPrefix` normalized: "" or ending in `/`.
    let keyPrefix: String
    let logger: Logger

    /// `httpClient` defaults to the process-wide shared client; pass one to control pools and TLS.
    package init(
        configuration: Configuration, httpClient: HTTPClient = .shared, logger: Logger,
        onPartUploaded: PartUploaded? = nil
    ) throws(CHOMError) {
        try configuration.validate()
        self.configuration = configuration
        self.keyPrefix = try S3ObjectKey.normalize(keyPrefix: configuration.keyPrefix)
        self.client = S3Client(configuration: configuration, http: httpClient, logger: logger)
        self.logger = logger
        self.onPartUploaded = onPartUploaded
    }

    package func put(file: URL, key: String) async throws {
        _ = try await upload(file: file, key: key)
    }

    package func delete(key: String) async throws {
        try S3ObjectKey.validate(key)
        let request = client.sigV4Request("DELETE", key: keyPrefix + key, payload: .empty)
        _ = try await client.perform(.deleteObject, request, subject: "'\(key)'")
    }

    /// Every object whose key starts with `prefix`, in key order, following continuation tokens.
    package func list(prefix: String) async throws -> [BackupObject] {
        try S3ObjectKey.validate(prefix: prefix)
        var objects: [BackupObject] = []
        var token: String?
        repeat {
            var query = [
                (name: "list-type", value: "2"), (name: "prefix", value: keyPrefix + prefix),
                (name: "max-keys", value: String(configuration.listPageSize)),
            ]
            if let token { query.append((name: "continuation-token", value: token)) }
            let request = client.sigV4Request("GET", key: nil, query: query, payload: .empty)
            let answer = try await client.perform(.listObjectsV2, request, subject: "prefix '\(prefix)'")
            let page = try S3XML.listObjectsPage(from: answer.body.readableBytesView)
            for object in page.objects where object.key.hasPrefix(keyPrefix) {
                objects.append(BackupObject(key: String(object.key.dropFirst(keyPrefix.count)), size: object.size))
            }
            guard page.nextContinuationToken == nil || page.nextContinuationToken != token else {
                throw CHOMError(.integrity, "S3 ListObjectsV2 returned the same continuation token twice")
            }
            token = page.nextContinuationToken
        } while token != nil
        return objects
    }

    /// Creates the bucket (setup and tests; a backup never creates buckets). Outside `us-east-1`
    /// the region goes in a LocationConstraint, as S3 requires.
    package func createBucket() async throws {
        var request = client.sigV4Request("PUT", key: nil, payload: .empty)
        var body: HTTPClientRequest.Body?
        if configuration.region != "us-east-1" {
            let document =
                #"<CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">"#
                + "<LocationConstraint>\(try S3XML.escape(configuration.region))</LocationConstraint>"
                + "</CreateBucketConfiguration>"
            let memory = S3Client.memoryBody(Array(document.utf8))
            request.payload = memory.payload
            request.headers = [(name: "content-type", value: S3XML.contentType)]
            body = memory.body
        }
        _ = try await client.perform(.createBucket, request, body: body, subject: "bucket '\(configuration.bucket)'")
    }
}
