import AsyncHTTPClient
import CHOMBackup
import CHOMCore
import Crypto
import Foundation
import NIOCore
import NIOHTTP1

/// The IAM calls that turn on moto's signature checking: while authentication is still off,
/// create a user, give it an `s3:*` policy and an access key, then POST `/moto-api/reset-auth`
/// with 0 so that every later request must carry a valid SigV4 signature from a known key.
enum MotoIAM {
    static func enableAuthentication(endpoint: URL) async throws -> (accessKeyID: String, secret: String) {
        let user = "chom-test"
        _ = try await call(endpoint, ["Action": "CreateUser", "UserName": user])
        let policy = #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#
        _ = try await call(
            endpoint, ["Action": "PutUserPolicy", "UserName": user, "PolicyName": "s3-all", "PolicyDocument": policy])
        let created = try await call(endpoint, ["Action": "CreateAccessKey", "UserName": user])
        guard let id = element("AccessKeyId", in: created), let secret = element("SecretAccessKey", in: created) else {
            throw CHOMError(.internal, "moto's CreateAccessKey answer has no key pair")
        }
        var reset = HTTPClientRequest(url: endpoint.absoluteString + "/moto-api/reset-auth")
        reset.method = .POST
        reset.body = .bytes(ByteBuffer(string: "0"))
        let response = try await HTTPClient.shared.execute(reset, timeout: .seconds(10))
        _ = try await response.body.collect(upTo: 1 << 20)
        guard response.status == .ok else { throw CHOMError(.internal, "moto refused reset-auth: \(response.status)") }
        return (id, secret)
    }

    /// One IAM Query API call, SigV4-signed for service `iam` (moto routes on the credential scope).
    private static func call(_ endpoint: URL, _ parameters: [String: String]) async throws -> String {
        let form = (parameters.merging(["Version": "2010-05-08"]) { a, _ in a })
            .sorted { $0.key < $1.key }
            .map { "\(SigV4Request.uriEncode($0.key))=\(SigV4Request.uriEncode($0.value))" }
            .joined(separator: "&")
        let body = Array(form.utf8)
        let contentType = "application/x-www-form-urlencoded; charset=utf-8"
        guard
            let request = SigV4Request(
                method: "POST", url: endpoint.appendingPathComponent("/"),
                headers: [(name: "content-type", value: contentType)],
                payload: .sha256Hex(Hex.encode(SHA256.hash(data: body))))
        else { throw CHOMError(.internal, "bad moto endpoint") }
        let signer = SigV4Signer(
            credentials: .init(accessKeyID: "AKIDMOTOSETUP0000000", secretAccessKey: "setup"), region: "us-east-1",
            service: "iam")
        let signed = signer.sign(request, date: Date())
        var outgoing = HTTPClientRequest(url: request.url)
        outgoing.method = .POST
        outgoing.headers.add(name: "content-type", value: contentType)
        for header in signed.headers { outgoing.headers.add(name: header.name, value: header.value) }
        outgoing.body = .bytes(ByteBuffer(bytes: body))
        let response = try await HTTPClient.shared.execute(outgoing, timeout: .seconds(10))
        let text = String(buffer: try await response.body.collect(upTo: 1 << 20))
        guard response.status == .ok else {
            throw CHOMError(.internal, "moto IAM \(parameters["Action"] ?? "") failed: \(response.status)")
        }
        return text
    }

    private static func element(_ name: String, in text: String) -> String? {
        guard let open = text.range(of: "<\(name)>"),
            let close = text.range(of: "</\(name)>", range: open.upperBound..<text.endIndex)
        else { return nil }
        return String(text[open.upperBound..<close.lowerBound])
    }
}
