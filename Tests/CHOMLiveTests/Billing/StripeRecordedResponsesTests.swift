@testable import CHOMCoordinator
import CHOMCore
import CHOMTesting
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Synchronization
import Testing

/// The Stripe adapter's requests and its reading of Stripe's answers, for what localstripe does not
/// have: `Idempotency-Key` and the `Stripe-Version` header on every request, a price's
/// `unit_amount` in API 2025-03-31.basil's subscription shape, and the 402 `card_declined` error a
/// real `/pay` answers. The answers are Stripe's, recorded (ids shortened); a local HTTP server
/// replays them and keeps each request for the test to read.
@Suite("Stripe adapter against recorded Stripe responses (what localstripe lacks)")
struct StripeRecordedResponsesTests {
    struct Seen: Sendable {
        var method: String
        var path: String
        var headers: [String: String]
        var form: String
    }

    static let customer = #"{"id": "cus_RecOrDed01", "object": "customer", "name": "Acme", "metadata": {"chom_organization": "x"}}"#
    static let item = #"{"id": "ii_RecOrDed01", "object": "invoiceitem", "amount": 2900, "currency": "eur", "invoice": null}"#
    static let subscription = """
        {"id": "sub_RecOrDed01", "object": "subscription", "status": "active",
         "items": {"object": "list", "data": [{"id": "si_RecOrDed01", "object": "subscription_item", "quantity": 2,
           "price": {"id": "price_RecOrDed01", "object": "price", "unit_amount": 500, "currency": "eur"}}]}}
        """
    static let openInvoice = #"{"id": "in_RecOrDed01", "object": "invoice", "status": "open", "total": 2900}"#
    static let declined = """
        {"error": {"code": "card_declined", "decline_code": "generic_decline",
         "message": "Your card was declined.", "type": "card_error"}}
        """
    static let invalid = """
        {"error": {"code": "resource_missing", "message": "No such customer: 'cus_missing'", "param": "customer",
         "type": "invalid_request_error"}}
        """

    /// What the replaying server saw.
    final class Recorder: Sendable {
        let seen = Mutex<[Seen]>([])
        var requests: [Seen] { seen.withLock { $0 } }

        func record(_ request: Request) async throws {
            var request = request
            let buffer = try await request.collectBody(upTo: 1 << 20)
            var headers: [String: String] = [:]
            for field in request.headers { headers[field.name.canonicalName] = field.value }  // lower-case names
            let entry = Seen(
                method: request.method.rawValue, path: request.uri.path, headers: headers, form: String(buffer: buffer))
            seen.withLock { $0.append(entry) }
        }
    }

    @Sendable static func json(_ text: String, _ status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    /// Replays the recorded answers on 127.0.0.1 while `body` runs.
    static func withRecordedStripe(_ body: (URL, Recorder) async throws -> Void) async throws {
        let recorder = Recorder()
        let router = Router()
        router.post("/v1/customers") { request, _ in
            try await recorder.record(request)
            return json(customer)
        }
        router.post("/v1/invoiceitems") { request, _ in
            try await recorder.record(request)
            return json(item)
        }
        router.get("/v1/subscriptions/:id") { request, _ in
            try await recorder.record(request)
            return json(subscription)
        }
        router.get("/v1/invoices/:id") { request, _ in
            try await recorder.record(request)
            return json(openInvoice)
        }
        router.post("/v1/invoices/:id/pay") { request, _ in
            try await recorder.record(request)
            return json(declined, HTTPResponse.Status(code: 402))
        }
        router.post("/v1/subscriptions") { request, _ in
            try await recorder.record(request)
            return json(invalid, .notFound)
        }
        let port = try FreePort.next()
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await app.runService() }
            defer { group.cancelAll() }
            try await TCPProbe.waitUntilListening(port: port, within: .seconds(20), what: "the recorded Stripe server")
            try await body(URL(string: "http://127.0.0.1:\(port)")!, recorder)
        }
    }

    @Test("recorded: every create sends Idempotency-Key, Stripe-Version and the key as a bearer token")
    func idempotencyKeys() async throws {
        try await Self.withRecordedStripe { (base: URL, seen: Recorder) async throws in
            let processor = StripeProcessor(api: StripeAPI(base: base, secretKey: "sk_test_recorded"))
            let organization = OrganizationID()
            let invoice = UUID()
            #expect(try await processor.createCustomer(
                name: "Acme & Co", email: "owner@example.com", organization: organization,
                key: "chom-customer-\(organization)") == "cus_RecOrDed01")
            #expect(try await processor.createItem(
                customer: "cus_RecOrDed01", subscription: "sub_RecOrDed01", amountMinor: -250, currency: "EUR", description: "Base fee: 50% of a month",
                invoice: invoice, position: 3, key: "chom-item-x-3") == "ii_RecOrDed01")
            let requests = seen.requests
            #expect(requests.count == 2)
            #expect(requests.map { $0.headers["idempotency-key"] } == ["chom-customer-\(organization)", "chom-item-x-3"])
            #expect(requests.allSatisfy { $0.headers["stripe-version"] == "2025-03-31.basil" })
            #expect(requests.allSatisfy { $0.headers["authorization"] == "Bearer sk_test_recorded" })
            #expect(requests[0].form.contains("name=Acme%20%26%20Co"))
            #expect(requests[0].form.contains("metadata%5Bchom_organization%5D=\(organization)"))
            #expect(requests[1].form.contains("amount=-250") && requests[1].form.contains("currency=eur"))
            #expect(requests[1].form.contains("metadata%5Bchom_line%5D=3"))
            #expect(requests[1].form.contains("subscription=sub_RecOrDed01"))
        }
    }

    @Test("recorded: a price's unit_amount × quantity is what the subscription adds; a 402 card_declined is a decline")
    func answers() async throws {
        try await Self.withRecordedStripe { (base: URL, _: Recorder) async throws in
            let processor = StripeProcessor(api: StripeAPI(base: base, secretKey: "sk_test_recorded"))
            #expect(try await processor.subscriptionAmount("sub_RecOrDed01") == 1_000)
            #expect(try await processor.subscriptionStatus("sub_RecOrDed01") == "active")
            #expect(try await processor.collect("in_RecOrDed01", key: "chom-collect-x") == "declined")
            // Any other refusal is an error naming Stripe's message (and no secret).
            do {
                _ = try await processor.createSubscription(
                    customer: "cus_missing", price: "price_x", organization: OrganizationID(), key: "k")
                Issue.record("a refused create must throw")
            } catch let refusal as StripeAPI.Refusal {
                #expect(refusal.status == 404 && refusal.code == "resource_missing")
                #expect(refusal.description.contains("No such customer") && !refusal.description.contains("sk_test"))
            }
        }
    }
}
