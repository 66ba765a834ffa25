import AsyncHTTPClient
import CHOMCore
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// Signed HTTP requests to one bucket: addressing (path or virtual-host style), SigV4, sending
/// through async-http-client, and turning every non-2xx answer into a `CHOMError`.
struct S3Client: Sendable {
    /// The S3 API call, named as AWS names it in errors and logs.
    enum Operation: String, Sendable {
        case createBucket = "CreateBucket"
        case putObject = "PutObject"
        case getObject = "GetObject"
        case deleteObject = "DeleteObject"
        case listObjectsV2 = "ListObjectsV2"
        case createMultipartUpload = "CreateMultipartUpload"
        case uploadPart = "UploadPart"
        case completeMultipartUpload = "CompleteMultipartUpload"
        case abortMultipartUpload = "AbortMultipartUpload"
        case listMultipartUploads = "ListMultipartUploads"
    }

    /// Control responses (XML documents, errors) are read up to this size.
    static let maximumControlResponse = 1024 * 1024

    let configuration: S3Target.Configuration
    let signer: SigV4Signer
    let http: HTTPClient
    let logger: Logger

    init(configuration: S3Target.Configuration, http: HTTPClient, logger: Logger) {
        self.configuration = configuration
        self.signer = SigV4Signer(credentials: configuration.credentials, region: configuration.region)
        self.http = http
        self.logger = logger
    }

    /// The request as SigV4 sees it: `key` is the full object key (prefix included), nil for the bucket.
    func sigV4Request(
        _ method: String, key: String?, query: [(name: String, value: String)] = [],
        headers: [(name: String, value: String)] = [], payload: SigV4Request.Payload
    ) -> SigV4Request {
        let endpoint = configuration.endpoint
        let scheme = endpoint.scheme?.lowercased() ?? "https"
        let host = endpoint.host ?? ""
        var basePath = endpoint.path
        while basePath.hasSuffix("/") { basePath.removeLast() }
        let objectPath = key.map { "/" + $0 } ?? "/"
        let path: String
        let requestHost: String
        if configuration.pathStyle {
            requestHost = host
            path = basePath + "/" + configuration.bucket + (key.map { "/" + $0 } ?? "")
        } else {
            requestHost = configuration.bucket + "." + host
            path = basePath + objectPath
        }
        return SigV4Request(
            method: method, scheme: scheme, host: requestHost, port: endpoint.port, path: path, query: query,
            headers: headers, payload: payload)
    }

    /// Signs and sends; returns the response of a 2xx answer with its body still unread.
    /// Throws a `CHOMError` naming the S3 error code for any other status.
    func send(
        _ operation: Operation, _ request: SigV4Request, body: HTTPClientRequest.Body? = nil, subject: String
    ) async throws(CHOMError) -> HTTPClientResponse {
        let signed = signer.sign(request, date: Date())
        var outgoing = HTTPClientRequest(url: request.url)
        outgoing.method = HTTPMethod(rawValue: request.method)
        for header in request.headers { outgoing.headers.add(name: header.name, value: header.value) }
        for header in signed.headers { outgoing.headers.replaceOrAdd(name: header.name, value: header.value) }
        outgoing.body = body
        return try await Self.execute(
            operation, outgoing, http: http, timeout: configuration.requestTimeout, logger: logger, subject: subject)
    }

    /// Sends and reads the whole (small) answer body: for control calls whose answer is a document.
    func perform(
        _ operation: Operation, _ request: SigV4Request, body: HTTPClientRequest.Body? = nil, subject: String
    ) async throws(CHOMError) -> (headers: HTTPHeaders, body: ByteBuffer) {
        let response = try await send(operation, request, body: body, subject: subject)
        return try await Self.collect(operation, response, subject: subject)
    }

    /// Sends a request that is already authenticated (a presigned URL) or signed; a non-2xx answer
    /// throws a `CHOMError` naming the S3 error code.
    static func execute(
        _ operation: Operation, _ outgoing: HTTPClientRequest, http: HTTPClient, timeout: Duration, logger: Logger,
        subject: String
    ) async throws(CHOMError) -> HTTPClientResponse {
        let response: HTTPClientResponse
        do {
            response = try await http.execute(outgoing, timeout: TimeAmount(timeout), logger: logger)
        } catch {
            throw S3Failure.transport(operation, subject: subject, underlying: error)
        }
        guard (200..<300).contains(response.status.code) else {
            let document = try? await response.body.collect(upTo: Self.maximumControlResponse)
            throw S3Failure.status(
                operation, subject: subject, status: Int(response.status.code),
                error: document.flatMap { S3XML.errorResponse(from: $0.readableBytesView) })
        }
        return response
    }

    /// The whole (small) body of a control answer.
    static func collect(
        _ operation: Operation, _ response: HTTPClientResponse, subject: String
    ) async throws(CHOMError) -> (headers: HTTPHeaders, body: ByteBuffer) {
        do {
            let document = try await response.body.collect(upTo: Self.maximumControlResponse)
            return (response.headers, document)
        } catch {
            throw S3Failure.transport(operation, subject: subject, underlying: error)
        }
    }

    /// A body held in memory, with its SHA-256 as the signed payload hash.
    static func memoryBody(_ bytes: [UInt8]) -> (body: HTTPClientRequest.Body, payload: SigV4Request.Payload) {
        (.bytes(ByteBuffer(bytes: bytes)), .sha256Hex(FileRegion.sha256Hex(bytes)))
    }
}
