@testable import CHOMCoordinator
import Foundation
import Testing

@Suite("Stripe webhook signatures: HMAC-SHA256 over t.body, several v1 values, 300 s tolerance")
struct StripeSignatureTests {
    static let secret = "whsec_test_secret"
    static let payload = Data(#"{"id":"evt_1","type":"invoice.payment_failed"}"#.utf8)
    static let now = Date(timeIntervalSince1970: 1_794_823_200)
    static let t = Int64(1_794_823_200)

    @Test("a genuine payload passes, with the right v1 among others and with unknown schemes")
    func genuine() throws {
        let header = WebhookSignature.header(payload: Self.payload, timestamp: Self.t, secret: Self.secret)
        try WebhookSignature.verify(payload: Self.payload, header: header, secret: Self.secret, now: Self.now)
        let rotated = WebhookSignature.header(payload: Self.payload, timestamp: Self.t, secret: "whsec_old")
        let both = "t=\(Self.t),v1=\(rotated.split(separator: "=").last!),v0=abc,\(header.split(separator: ",")[1])"
        try WebhookSignature.verify(payload: Self.payload, header: both, secret: Self.secret, now: Self.now)
        // At the tolerance's edge, both sides.
        try WebhookSignature.verify(payload: Self.payload, header: header, secret: Self.secret, now: Self.now + 300)
        try WebhookSignature.verify(payload: Self.payload, header: header, secret: Self.secret, now: Self.now - 300)
    }

    @Test("refused: another secret, a changed body, a stale or future timestamp, no v1, a malformed header")
    func refused() {
        let header = WebhookSignature.header(payload: Self.payload, timestamp: Self.t, secret: Self.secret)
        func refusal(
            _ payload: Data = StripeSignatureTests.payload, _ header: String?, now: Date = StripeSignatureTests.now,
            secret: String = StripeSignatureTests.secret
        ) -> WebhookSignature.Failure? {
            do {
                try WebhookSignature.verify(payload: payload, header: header, secret: secret, now: now)
                return nil
            } catch {
                return error
            }
        }
        #expect(refusal(Self.payload, header, secret: "whsec_other") == .mismatch)
        #expect(refusal(Data(#"{"id":"evt_1","type":"invoice.paid"}"#.utf8), header) == .mismatch)
        #expect(refusal(Self.payload, header, now: Self.now + 301) == .staleTimestamp)
        #expect(refusal(Self.payload, header, now: Self.now - 301) == .staleTimestamp)
        #expect(refusal(Self.payload, "t=\(Self.t),v0=00") == .noSignature)
        #expect(refusal(Self.payload, "t=\(Self.t),v1=zz") == .noSignature)
        #expect(refusal(Self.payload, "v1=\(String(repeating: "a", count: 64))") == .malformedHeader)
        #expect(refusal(Self.payload, nil) == .malformedHeader)
        #expect(refusal(Self.payload, "t=1,t=2,v1=00") == .malformedHeader)
        #expect(refusal(Self.payload, "garbage") == .malformedHeader)
        #expect(refusal(Self.payload, String(repeating: "t=1,", count: 2_000)) == .malformedHeader)
    }
}
