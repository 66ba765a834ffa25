import CHOMAPI
import CHOMAudit
import CHOMCoordinator
import CHOMCore
import CHOMTesting
import Foundation
import Testing

@Suite("API conventions: cursor pagination; audit checkpoints exported outside the database")
struct PaginationAndExportTests {
    @Test("lists page with an opaque cursor up to a maximum page size; bad limits and cursors are 400")
    func pagination() async throws {
        try await TestCoordinator.with { coordinator in
            var created: Set<String> = []
            for index in 0..<7 { created.insert(try await coordinator.client.createOrganization(name: "page \(index)").id) }
            var seen: [String] = []
            var cursor: String?
            var pages = 0
            repeat {
                let page = try await coordinator.client.organizations(cursor: cursor, limit: 3)
                #expect(page.items.count <= 3)
                seen += page.items.map(\.id)
                cursor = page.nextCursor
                pages += 1
            } while cursor != nil && pages < 10
            #expect(pages == 3)
            #expect(seen.count == 7)
            #expect(Set(seen) == created)
            let url = coordinator.apiURL.appending(path: "/v1/organizations")
            for query in ["limit=0", "limit=201", "limit=ten", "cursor=%21%21not-ours", "cursor=bm90LWEtdXVpZA"] {
                let reply = try await TestHTTP.request(
                    "GET", URL(string: "\(url.absoluteString)?\(query)")!, token: coordinator.operatorToken)
                #expect(reply.status == 400, "\(query): \(reply.text)")
                #expect(reply.headers["content-type"] == "application/problem+json")
            }
            let largest = try await TestHTTP.request(
                "GET", URL(string: "\(url.absoluteString)?limit=200")!, token: coordinator.operatorToken)
            #expect(largest.status == 200)
        }
    }

    @Test("signed checkpoints are appended to audit-checkpoints.jsonl in the export directory")
    func checkpointExport() async throws {
        let export = try TemporaryDirectory.make(prefix: "chom-export")
        defer { try? FileManager.default.removeItem(at: export) }
        try await TestCoordinator.with(configure: {
            $0.audit.exportDirectory = export.path
            $0.audit.checkpointEveryEntries = 2
        }) { coordinator in
            for index in 0..<6 { _ = try await coordinator.client.createOrganization(name: "export \(index)") }
            let served = try AuditCheckpoint.parseJSONLines(try await coordinator.client.auditCheckpoints())
            #expect(served.count >= 3)
            let file = export.appendingPathComponent("audit-checkpoints.jsonl")
            var exported: [AuditCheckpoint] = []
            try await coordinator.eventually("checkpoints exported") {
                let text = (try? String(contentsOf: file, encoding: .utf8)) ?? ""
                exported = (try? AuditCheckpoint.parseJSONLines(text)) ?? []
                return exported.count >= served.count
            }
            #expect(Array(exported.prefix(served.count)) == served)
            #expect(Set(exported.map(\.sequence)).count == exported.count, "a checkpoint exported twice")
        }
    }
}
