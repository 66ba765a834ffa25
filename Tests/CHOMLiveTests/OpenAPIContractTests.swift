import CHOMTesting
import Foundation
import Testing

/// The running server and `Protocol/admin-api.yaml` agree: the document served is the file, every
/// documented operation is routed, and its answer to a plain request is one the document lists.
/// (Response bodies are validated against their schemas by schemathesis in scripts/contract-test.sh.)
@Suite("The admin API against its OpenAPI document")
struct OpenAPIContractTests {
    struct Operation: CustomStringConvertible {
        var method: String
        var path: String
        var statuses: Set<Int>
        var description: String { "\(method.uppercased()) \(path)" }
    }

    static let documentURL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Protocol/admin-api.yaml")

    /// Paths at two spaces under `paths:`, methods at four, response codes at eight.
    static func operations(_ yaml: String) -> [Operation] {
        var operations: [Operation] = []
        var inPaths = false
        var path: String?
        var inResponses = false
        for line in yaml.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if line.isEmpty { continue }
            if !line.hasPrefix(" ") { inPaths = line == "paths:"; continue }
            guard inPaths else { continue }
            if line.hasPrefix("  /"), line.hasSuffix(":") {
                path = String(line.dropFirst(2).dropLast())
            } else if let path, line.hasPrefix("    "), !line.hasPrefix("     "), line.hasSuffix(":") {
                let method = line.trimmingCharacters(in: .whitespaces).dropLast()
                if ["get", "post", "put", "patch", "delete"].contains(String(method)) {
                    operations.append(Operation(method: String(method), path: path, statuses: []))
                }
                inResponses = false
            } else if line == "      responses:" {
                inResponses = true
            } else if line.hasPrefix("      "), !line.hasPrefix("       ") {
                inResponses = false
            } else if inResponses, line.hasPrefix("        '"), !line.hasPrefix("         ") {
                if let code = Int(line.trimmingCharacters(in: .whitespaces).dropFirst().prefix(3)) {
                    operations[operations.count - 1].statuses.insert(code)
                }
            }
        }
        return operations
    }

    @Test("the served document is Protocol/admin-api.yaml, byte for byte")
    func servedDocument() async throws {
        let file = try String(contentsOf: Self.documentURL, encoding: .utf8)
        try await TestCoordinator.with { coordinator in
            let reply = try await TestHTTP.request("GET", coordinator.apiURL.appending(path: "/v1/openapi.yaml"))
            #expect(reply.status == 200)
            #expect(reply.headers["content-type"] == "application/yaml")
            #expect(reply.text + "\n" == file || reply.text == file)
        }
    }

    @Test("every documented operation is routed and answers with a documented status")
    func everyOperationIsRouted() async throws {
        let operations = Self.operations(try String(contentsOf: Self.documentURL, encoding: .utf8))
        #expect(operations.count >= 48, "the parser found \(operations.count) operations")
        #expect(operations.allSatisfy { !$0.statuses.isEmpty }, "an operation without documented responses")
        // These end the session in use: run last. These answer 401 to the operator's plain request
        // on purpose (a wrong password or second factor, an unknown login).
        let last: Set<String> = ["POST /v1/auth/logout", "POST /v1/tokens/revoke-all"]
        let unauthorizedByDesign: Set<String> = [
            "POST /v1/auth/login", "POST /v1/auth/login/two-factor", "POST /v1/me/password",
            "POST /v1/me/two-factor/disable",
        ]
        try await TestCoordinator.with { coordinator in
            for operation in operations.filter({ !last.contains($0.description) }) + operations.filter({ last.contains($0.description) }) {
                // Ids that exist nowhere: each route must answer (404 for them, or 400/401/403...),
                // never "no such route" or "method not allowed".
                var path = operation.path
                while let open = path.firstIndex(of: "{"), let close = path[open...].firstIndex(of: "}") {
                    path.replaceSubrange(open...close, with: UUID().uuidString.lowercased())
                }
                let body: Data? = ["post", "patch", "put"].contains(operation.method) ? Data("{}".utf8) : nil
                let reply = try await TestHTTP.request(
                    operation.method.uppercased(), coordinator.apiURL.appending(path: path),
                    token: coordinator.operatorToken, body: body)
                #expect(reply.status != 405, "\(operation): \(reply.text)")
                #expect(!reply.text.contains("no such route"), "\(operation) is not routed")
                #expect(operation.statuses.contains(reply.status), "\(operation) answered \(reply.status): \(reply.text)")
                if !last.contains(operation.description) && !unauthorizedByDesign.contains(operation.description) {
                    #expect(reply.status != 401, "\(operation) refused the operator's token: \(reply.text)")
                }
            }
        }
    }

    @Test("a route that is not in the document does not exist")
    func undocumentedRoute() async throws {
        let documented = Set(Self.operations(try String(contentsOf: Self.documentURL, encoding: .utf8)).map(\.description))
        #expect(!documented.contains("POST /v1/sites"))
        try await TestCoordinator.with { coordinator in
            let reply = try await TestHTTP.request(
                "POST", coordinator.apiURL.appending(path: "/v1/sites"), token: coordinator.operatorToken,
                body: Data(#"{"domain":"a.test"}"#.utf8))
            #expect(reply.status == 404 || reply.status == 405)
        }
    }
}
