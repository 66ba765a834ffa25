import CHOMAPI
import Foundation
import Testing

@Suite("AdminClient errors")
struct AdminClientErrorTests {
    @Test("a problem reads as its detail and HTTP status on one line")
    func problemDescription() {
        let error = AdminClientError.problem(ProblemDetails(title: "Not Found", status: 404, detail: "no site example.org"))
        #expect(error.description == "no site example.org (HTTP 404)")
        #expect(error.status == 404)
    }

    @Test("a problem+json body decodes into the problem")
    func decodesProblemJSON() {
        let body = Data(#"{"type":"about:blank","title":"Unauthorized","status":401,"detail":"missing bearer token"}"#.utf8)
        let problem = AdminClient.problem(from: body, status: 401)
        #expect(problem == ProblemDetails(title: "Unauthorized", status: 401, detail: "missing bearer token"))
        #expect(AdminClientError.problem(problem).description == "missing bearer token (HTTP 401)")
    }

    @Test("an HTML error page becomes a problem made from the status")
    func htmlBody() {
        let problem = AdminClient.problem(from: Data("<html><body>Bad Gateway</body></html>".utf8), status: 502)
        #expect(problem.status == 502)
        #expect(problem.detail.hasPrefix("the coordinator answered 502"))
        #expect(!problem.detail.contains("<"))
    }

    @Test("a short plain-text error body is kept as the detail")
    func plainTextBody() {
        let problem = AdminClient.problem(from: Data("upstream timed out\n".utf8), status: 504)
        #expect(AdminClientError.problem(problem).description == "upstream timed out (HTTP 504)")
    }

    @Test(
        "Retry-After is read in its delay-seconds form only",
        arguments: [("30", Duration.seconds(30)), (" 0 ", .seconds(0)), ("-1", nil), ("soon", nil), (nil, nil),
                    ("Wed, 21 Oct 2026 07:28:00 GMT", nil)] as [(String?, Duration?)])
    func retryAfter(header: String?, delay: Duration?) {
        #expect(AdminClient.retryAfter(header) == delay)
    }

    @Test("a rate-limited error has the 429 status and says when to retry, if known")
    func rateLimitedDescription() {
        let problem = ProblemDetails(title: "Too Many Requests", status: 429, detail: "too many login attempts")
        let known = AdminClientError.rateLimited(problem, retryAfter: .seconds(12))
        #expect(known.description == "too many login attempts (HTTP 429); retry in 12 s")
        #expect(known.status == 429 && known.retryAfter == .seconds(12))
        let unknown = AdminClientError.rateLimited(problem, retryAfter: nil)
        #expect(unknown.description == "too many login attempts (HTTP 429)")
        #expect(unknown.retryAfter == nil)
        #expect(AdminClientError.problem(problem).retryAfter == nil)
    }

    @Test("transport and decoding errors read as their message")
    func otherDescriptions() {
        #expect(AdminClientError.transport("cannot reach the coordinator at http://x: timed out").description
            == "cannot reach the coordinator at http://x: timed out")
        #expect(AdminClientError.decoding("bad body").description == "bad body")
    }

    @Test("the client's description and mirror do not hold the token")
    func tokenNotReflected() throws {
        let url = try #require(URL(string: "http://127.0.0.1:8080"))
        let client = AdminClient(baseURL: url, token: "s3cret-admin-token")
        #expect(!String(describing: client).contains("s3cret"))
        #expect(!String(reflecting: client).contains("s3cret"))
        var dumped = ""
        dump(client, to: &dumped)
        #expect(!dumped.contains("s3cret"))
    }

    @Test("a refused connection (127.0.0.1:1) is a transport error naming the coordinator")
    func connectionRefused() async throws {
        let url = try #require(URL(string: "http://127.0.0.1:1"))
        let client = AdminClient(baseURL: url, token: "t")
        await #expect {
            _ = try await client.health()
        } throws: { error in
            guard case .transport(let message) = error as? AdminClientError else { return false }
            return message == "cannot reach the coordinator at http://127.0.0.1:1: connection refused"
        }
    }
}
