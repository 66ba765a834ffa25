import CHOMAPI
import Foundation
import Testing

@Suite("Rotating the stored session before it expires")
struct SessionRotationTests {
    private static let created = Date(timeIntervalSince1970: 1_800_000_000)

    private static func decide(lifetime: TimeInterval, remaining: TimeInterval) -> SessionRotation.Decision {
        let expires = created.addingTimeInterval(lifetime)
        return SessionRotation.decide(createdAt: created, expiresAt: expires, now: expires.addingTimeInterval(-remaining))
    }

    @Test("a 12-hour session is rotated in its last quarter (3 hours), not before")
    func quarterOfLifetime() {
        let lifetime: TimeInterval = 12 * 3600
        #expect(Self.decide(lifetime: lifetime, remaining: 3 * 3600 + 1) == .keep)
        #expect(Self.decide(lifetime: lifetime, remaining: 3 * 3600) == .rotate)
        #expect(Self.decide(lifetime: lifetime, remaining: 3 * 3600 - 1) == .rotate)
        #expect(Self.decide(lifetime: lifetime, remaining: 1) == .rotate)
    }

    @Test("a short session is rotated in its last 5 minutes even when a quarter is less")
    func fiveMinuteFloor() {
        let lifetime: TimeInterval = 10 * 60  // a quarter would be 2.5 minutes
        #expect(SessionRotation.margin(createdAt: Self.created, expiresAt: Self.created.addingTimeInterval(lifetime)) == 300)
        #expect(Self.decide(lifetime: lifetime, remaining: 301) == .keep)
        #expect(Self.decide(lifetime: lifetime, remaining: 300) == .rotate)
        #expect(Self.decide(lifetime: lifetime, remaining: 150) == .rotate)
    }

    @Test("at and after expiry it is too late to rotate")
    func expired() {
        #expect(Self.decide(lifetime: 3600, remaining: 0) == .expired)
        #expect(Self.decide(lifetime: 3600, remaining: -60) == .expired)
    }

    @Test("a lifetime that makes no sense (created after it expires) still rotates within 5 minutes")
    func nonsenseLifetime() {
        let expires = Self.created.addingTimeInterval(-3600)
        #expect(SessionRotation.margin(createdAt: Self.created, expiresAt: expires) == 300)
        #expect(SessionRotation.decide(createdAt: Self.created, expiresAt: expires, now: expires.addingTimeInterval(-200)) == .rotate)
        #expect(SessionRotation.decide(createdAt: Self.created, expiresAt: expires, now: expires.addingTimeInterval(-400)) == .keep)
    }

    // MARK: refresh against a stub coordinator

    private static func session(remaining: TimeInterval, now: Date) -> StoredSession {
        StoredSession(
            coordinator: "https://c.test", email: "a@b.test", token: "chom_old", tokenId: "old-id",
            createdAt: now.addingTimeInterval(remaining - 12 * 3600), expiresAt: now.addingTimeInterval(remaining))
    }

    private static let issued = #"""
        {"token":"chom_new","tokenInfo":{"id":"new-id","kind":"session","name":"session",
        "createdAt":"2027-01-15T08:00:00Z","expiresAt":"2027-01-15T20:00:00Z"}}
        """#

    private static let problem401 = #"{"type":"about:blank","title":"Unauthorized","status":401,"detail":"invalid token"}"#

    @Test("a fresh session is used as it is, without a request")
    func keepSendsNothing() async {
        let now = Date()
        let stub = StubCoordinator([])
        let session = Self.session(remaining: 6 * 3600, now: now)
        #expect(await SessionRotation.refresh(session, client: stub.client(token: nil), now: now) == .current(session))
        #expect(stub.requests.isEmpty)
    }

    @Test("a session due for rotation is rotated with its own token and replaced by the successor")
    func rotates() async throws {
        let now = Date()
        let stub = StubCoordinator([.json(200, Self.issued)])
        let session = Self.session(remaining: 60 * 60, now: now)
        let outcome = await SessionRotation.refresh(session, client: stub.client(token: "chom_unrelated"), now: now)
        #expect(
            outcome
                == .rotated(
                    StoredSession(
                        coordinator: "https://c.test", email: "a@b.test", token: "chom_new", tokenId: "new-id",
                        createdAt: Date(timeIntervalSince1970: 1_800_000_000),
                        expiresAt: Date(timeIntervalSince1970: 1_800_043_200))))
        let request = try #require(stub.requests.first)
        #expect(stub.requests.count == 1)
        #expect(request.method == "POST")
        #expect(request.pathAndQuery == "/v1/auth/token/rotate")
        #expect(request.header("Authorization") == "Bearer chom_old")
    }

    @Test("a rotation answered 401 asks the user to log in again")
    func rotationRejected() async throws {
        let now = Date()
        let stub = StubCoordinator([.json(401, Self.problem401)])
        let outcome = await SessionRotation.refresh(Self.session(remaining: 60, now: now), client: stub.client(token: nil), now: now)
        guard case .loginRequired(let message) = outcome else {
            Issue.record("expected loginRequired, got \(outcome)")
            return
        }
        #expect(message.contains("chom login"))
        #expect(!message.contains("chom_old"))
    }

    @Test("an expired session asks for a login without trying to rotate")
    func expiredSendsNothing() async throws {
        let now = Date()
        let stub = StubCoordinator([])
        let outcome = await SessionRotation.refresh(Self.session(remaining: -1, now: now), client: stub.client(token: nil), now: now)
        guard case .loginRequired(let message) = outcome else {
            Issue.record("expected loginRequired, got \(outcome)")
            return
        }
        #expect(message.contains("expired"))
        #expect(stub.requests.isEmpty)
    }

    @Test("any other failure keeps the still-valid token, with a reason", arguments: [409, 500, 503])
    func otherFailures(status: Int) async throws {
        let now = Date()
        let body = #"{"type":"about:blank","title":"x","status":\#(status),"detail":"nope"}"#
        let stub = StubCoordinator([.json(status, body)])
        let session = Self.session(remaining: 60, now: now)
        let outcome = await SessionRotation.refresh(session, client: stub.client(token: nil), now: now)
        guard case .failed(let kept, let message) = outcome else {
            Issue.record("expected failed, got \(outcome)")
            return
        }
        #expect(kept == session)
        #expect(message.contains("nope"))
    }
}
