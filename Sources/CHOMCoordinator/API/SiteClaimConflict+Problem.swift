import CHOMCore
import CHOMStore
import Foundation

/// A name or port another site holds answers 409. Whose it is is said only when the caller may see
/// that site; another organization's or tenant's site stays anonymous ("already in use").
extension AdminAPI {
    /// Runs a write that claims names or a port, turning a refused claim into a 409 for `caller`.
    func claiming<Result: Sendable>(_ caller: Caller, _ body: () async throws -> Result) async throws -> Result {
        do {
            return try await body()
        } catch let conflict as SiteClaimConflict {
            let holder = try await store.sites(in: try caller.signedIn.scope(atLeast: .viewer)).holder(of: conflict)
            throw Self.problem(conflict, holder: holder)
        }
    }

    static func problem(_ conflict: SiteClaimConflict, holder: SiteRecord?) -> CHOMError {
        let by = holder.map { " by the site \($0.domain) (\($0.id))" } ?? ""
        switch conflict {
        case .name(let name):
            return CHOMError(.conflict, "the name \(name) is already in use\(by)")
        case .port(_, let port):
            return CHOMError(.conflict, "the port \(port) is already in use on the site's agent\(by)")
        }
    }
}
