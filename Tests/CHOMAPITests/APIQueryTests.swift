import CHOMAPI
import Foundation
import Testing

@Suite("Query strings and pagination")
struct APIQueryTests {
    @Test("absent values are left out and the rest keep their order")
    func dropsNil() {
        #expect(AdminClient.query([("b", "2"), ("a", nil), ("a", "1")]) == "?b=2&a=1")
        #expect(AdminClient.query([("cursor", nil), ("limit", nil)]) == "")
        #expect(AdminClient.query([]) == "")
    }

    @Test(
        "values are percent-encoded down to RFC 3986 unreserved characters",
        arguments: [
            ("a+b", "a%2Bb"),
            ("k=v&x=y", "k%3Dv%26x%3Dy"),
            ("2026-11-26T19:30:00+01:00", "2026-11-26T19%3A30%3A00%2B01%3A00"),
            ("a b/c?d#e%", "a%20b%2Fc%3Fd%23e%25"),
            ("été", "%C3%A9t%C3%A9"),
            ("AZaz09-._~", "AZaz09-._~"),
        ])
    func escapes(value: String, escaped: String) {
        #expect(AdminClient.query([("q", value)]) == "?q=\(escaped)")
    }

    @Test("a page query carries cursor and limit only when given")
    func pageQuery() {
        #expect(AdminClient.query(AdminClient.pageQuery(cursor: "eyJz/IjoxfQ==", limit: 200))
            == "?cursor=eyJz%2FIjoxfQ%3D%3D&limit=200")
        #expect(AdminClient.query(AdminClient.pageQuery(cursor: nil, limit: 10)) == "?limit=10")
    }

    @Test("audit filters become ISO-8601 UTC times without fractional seconds, absent ones left out")
    func auditFilter() {
        let since = Date(timeIntervalSince1970: 1_795_721_400.75)  // 2026-11-26T19:30:00.75Z
        let filter = AuditFilter(action: "site.create", since: since)
        #expect(AdminClient.query(filter.queryItems) == "?action=site.create&since=2026-11-26T19%3A30%3A00Z")
        #expect(AdminClient.query(AuditFilter().queryItems) == "")
    }

    @Test("collecting pages passes each nextCursor on and stops at the page without one")
    func collectsPages() async throws {
        let pages: [String?: ListResponse<Int>] = [
            nil: ListResponse(items: [1, 2], nextCursor: "c1"),
            "c1": ListResponse(items: [3], nextCursor: "c2"),
            "c2": ListResponse(items: [], nextCursor: nil),
        ]
        let asked = Recorder<String?>()
        let items = try await AdminClient.collectPages { cursor throws(AdminClientError) in
            asked.append(cursor)
            guard let page = pages[cursor] else { throw .decoding("unexpected cursor") }
            return page
        }
        #expect(items == [1, 2, 3])
        #expect(asked.values == [nil, "c1", "c2"])
    }

    @Test("a cursor given twice ends the listing with an error instead of looping")
    func repeatedCursor() async {
        await #expect(throws: AdminClientError.self) {
            _ = try await AdminClient.collectPages { cursor throws(AdminClientError) in
                ListResponse(items: [0], nextCursor: "same")
            }
        }
    }

    @Test("an error from a page is thrown as it is")
    func pageError() async {
        let problem = ProblemDetails(title: "Bad Request", status: 400, detail: "malformed cursor")
        await #expect(throws: AdminClientError.problem(problem)) {
            _ = try await AdminClient.collectPages { cursor throws(AdminClientError) -> ListResponse<Int> in
                if cursor == nil { return ListResponse(items: [1], nextCursor: "x") }
                throw .problem(problem)
            }
        }
    }
}
