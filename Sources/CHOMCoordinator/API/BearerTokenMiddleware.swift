import CHOMCore
import Crypto
import Foundation
import Hummingbird

/// Guards `/v1` with the operator bootstrap token (until real identity replaces it).
/// `/v1/health` stays open. Compares SHA-256 digests in constant time.
struct BearerTokenMiddleware<Context: RequestContext>: RouterMiddleware {
    let expectedSHA256: [UInt8]

    init(token: String) {
        expectedSHA256 = Array(SHA256.hash(data: Data(token.utf8)))
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        if request.uri.path == "/v1/health" { return try await next(request, context) }
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer ") else {
            throw CHOMError(.unauthorized, "missing bearer token")
        }
        let presented = Array(SHA256.hash(data: Data(header.dropFirst("Bearer ".count).utf8)))
        guard JoinTokenPolicy.constantTimeEqual(presented, expectedSHA256) else {
            throw CHOMError(.unauthorized, "invalid bearer token")
        }
        return try await next(request, context)
    }
}
