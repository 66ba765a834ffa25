import AsyncHTTPClient
import CHOMCore
package import Foundation
import NIOCore
import NIOHTTP1

/// localstripe (PyPI) as a real, stateful Stripe API server for one test: `localstripe --port
/// <free port> --from-scratch`, with helpers for what a customer or Stripe's dashboard would do
/// (plans, payment methods, paying an invoice, registering the webhook endpoint). Stopped when
/// the body returns or throws.
///
/// The binary: `CHOM_LOCALSTRIPE`, else `$CHOM_BILLING_VENV/bin/localstripe`, else
/// `<repository>/.build-tools/billing/bin/localstripe` (`scripts/install-billing-peers.sh`).
package struct LocalStripeServer: Sendable {
    package let base: URL
    package let secretKey = "sk_test_chom_localstripe"

    package static func with<Result: Sendable>(_ body: (LocalStripeServer) async throws -> Result) async throws -> Result {
        let binary = try BackgroundServer.locate(
            binary: "localstripe", serverVariable: "CHOM_LOCALSTRIPE", venvVariable: "CHOM_BILLING_VENV",
            venv: "billing", installScript: "scripts/install-billing-peers.sh")
        let directory = try TemporaryDirectory.make(prefix: "chom-localstripe")
        defer { TemporaryDirectory.remove(directory) }
        let port = try FreePort.next()
        let log = directory.appendingPathComponent("localstripe.log").path
        let pid = try BackgroundServer.spawn(binary, ["--port", String(port), "--from-scratch"], log: log)
        do {
            try await TCPProbe.waitUntilListening(port: port, within: .seconds(30), what: "localstripe")
            let result = try await body(LocalStripeServer(base: URL(string: "http://127.0.0.1:\(port)")!))
            await BackgroundServer.stop(pid, grace: .seconds(5))
            return result
        } catch {
            await BackgroundServer.stop(pid, grace: .seconds(5))
            let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            if !output.isEmpty { print("localstripe output:\n" + output.suffix(6_000)) }
            throw error
        }
    }

    /// POST (form-encoded, with the secret key); the JSON object answered.
    @discardableResult
    package func post(_ path: String, _ form: [(String, String)] = []) async throws -> [String: Any] {
        var request = HTTPClientRequest(url: base.absoluteString + path)
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(secretKey)")
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        let body = form.map {
            "\($0.0.addingPercentEncoding(withAllowedCharacters: allowed)!)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed)!)"
        }.joined(separator: "&")
        request.body = .bytes(ByteBuffer(string: body))
        return try await execute(request)
    }

    package func get(_ path: String) async throws -> [String: Any] {
        var request = HTTPClientRequest(url: base.absoluteString + path)
        request.headers.add(name: "Authorization", value: "Bearer \(secretKey)")
        return try await execute(request)
    }

    private func execute(_ request: HTTPClientRequest) async throws -> [String: Any] {
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 4 << 20)
        let object = (try? JSONSerialization.jsonObject(with: Data(body.readableBytesView))) as? [String: Any] ?? [:]
        guard (200..<300).contains(Int(response.status.code)) else {
            throw CHOMError(.unavailable, "localstripe answered \(response.status.code) to \(request.url): \(object)")
        }
        return object
    }

    /// Sends every event to `url`, signed with `secret` (localstripe's own configuration route).
    package func registerWebhook(url: String, secret: String) async throws {
        try await post("/_config/webhooks/chom", [("url", url), ("secret", secret)])
    }

    /// Attaches a card to `customer` and makes it the default for its invoices.
    package func setCard(customer: String, number: String) async throws {
        let method = try await post("/v1/payment_methods", [
            ("type", "card"), ("card[number]", number), ("card[exp_month]", "12"), ("card[exp_year]", "2040"),
            ("card[cvc]", "123"),
        ])
        let id = try require(method["id"] as? String)
        try await post("/v1/payment_methods/\(id)/attach", [("customer", customer)])
        try await post("/v1/customers/\(customer)", [("invoice_settings[default_payment_method]", id)])
    }
}

private func `require`<T>(_ value: T?) throws -> T {
    guard let value else { throw CHOMError(.unavailable, "localstripe's answer lacks a field") }
    return value
}
