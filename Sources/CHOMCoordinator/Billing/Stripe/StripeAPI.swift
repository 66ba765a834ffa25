import AsyncHTTPClient
import CHOMCore
import Foundation
import NIOCore
import NIOHTTP1

/// Stripe's REST API as CHOM uses it: form-encoded requests with the secret key as a bearer token,
/// `Idempotency-Key` on every create (real Stripe returns the first answer to a repeated key for
/// 24 h), and Stripe's error object turned into a clear error. The base URL is Stripe's, or a
/// localstripe's in the tests.
struct StripeAPI: Sendable {
    /// Stripe's answer to a request it refused.
    struct Refusal: Error, CustomStringConvertible {
        let status: Int
        let message: String
        let code: String?
        var description: String { "Stripe answered \(status): \(message)\(code.map { " (\($0))" } ?? "")" }
    }

    let base: URL
    let secretKey: String
    var timeout: TimeAmount = .seconds(30)
    /// The API version CHOM is written against (Billing Meters and the removal of usage records).
    static let version = "2025-03-31.basil"

    /// POST `path` with `form`; the object Stripe answers with.
    func post(_ path: String, _ form: [(String, String)], idempotencyKey: String? = nil) async throws -> [String: any Sendable] {
        var request = HTTPClientRequest(url: base.absoluteString + path)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        if let idempotencyKey { request.headers.add(name: "Idempotency-Key", value: idempotencyKey) }
        request.body = .bytes(ByteBuffer(string: Self.formEncode(form)))
        return try await execute(request)
    }

    /// GET `path` with `query`.
    func get(_ path: String, _ query: [(String, String)] = []) async throws -> [String: any Sendable] {
        let suffix = query.isEmpty ? "" : "?" + Self.formEncode(query)
        return try await execute(HTTPClientRequest(url: base.absoluteString + path + suffix))
    }

    /// One request, its answer read whole, under one deadline (`timeout`): AsyncHTTPClient's own
    /// deadline ends with the response head, and a body that trickles must not hold the leader's
    /// loop or a webhook request.
    private func execute(_ request: HTTPClientRequest) async throws -> [String: any Sendable] {
        let timeout = Duration.nanoseconds(self.timeout.nanoseconds)
        guard let answer = try await Deadline.value(within: timeout, { try await exchange(request) }) else {
            throw CHOMError(.unavailable, "Stripe did not answer within \(timeout)")
        }
        return answer
    }

    private func exchange(_ request: HTTPClientRequest) async throws -> [String: any Sendable] {
        var request = request
        request.headers.add(name: "Authorization", value: "Bearer \(secretKey)")
        request.headers.add(name: "Stripe-Version", value: Self.version)
        let response: HTTPClientResponse
        do {
            response = try await HTTPClient.shared.execute(request, timeout: timeout)
        } catch {
            throw CHOMError(.unavailable, "Stripe cannot be reached at \(base.host ?? base.absoluteString): \(error)")
        }
        let body = try await response.body.collect(upTo: 4 << 20)
        let object = (try? JSONSerialization.jsonObject(with: Data(body.readableBytesView))) as? [String: Any]
        guard (200..<300).contains(Int(response.status.code)) else {
            let error = object?["error"] as? [String: Any]
            throw Refusal(
                status: Int(response.status.code), message: String((error?["message"] as? String ?? "no message").prefix(300)),
                code: error?["code"] as? String)
        }
        guard let object else { throw CHOMError(.unavailable, "Stripe's answer to \(request.url) is not a JSON object") }
        return Self.sendable(object)
    }

    /// JSON objects as Sendable values (strings, numbers, booleans, nested objects and arrays); a
    /// JSON null is left out, so `object["invoice"] as? String` is nil for `"invoice": null`.
    static func sendable(_ object: [String: Any]) -> [String: any Sendable] {
        object.compactMapValues(sendableValue)
    }

    private static func sendableValue(_ value: Any) -> (any Sendable)? {
        switch value {
        case is NSNull: nil
        case let object as [String: Any]: sendable(object)
        case let array as [Any]: array.compactMap(sendableValue)
        case let string as String: string
        case let number as NSNumber: number.int64Value
        default: String(describing: value)
        }
    }

    /// application/x-www-form-urlencoded, as Stripe reads it (`metadata[key]=value`).
    static func formEncode(_ pairs: [(String, String)]) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        func encode(_ text: String) -> String { text.addingPercentEncoding(withAllowedCharacters: allowed) ?? "" }
        return pairs.map { "\(encode($0.0))=\(encode($0.1))" }.joined(separator: "&")
    }
}
