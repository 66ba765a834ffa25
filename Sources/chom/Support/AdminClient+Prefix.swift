import CHOMAPI

extension AdminClient {
    /// Expands an ID prefix (as the tables print it) to the one full ID it matches among `ids`,
    /// which is only fetched when `input` is not already a full ID.
    func resolve(_ input: String, what: String, ids: () async throws -> [String]) async throws -> String {
        if IDPrefix.isFullID(input) { return input.lowercased() }
        switch IDPrefix.match(input, among: try await ids()) {
        case .one(let id): return id
        case .none: throw CLIError("no \(what) matches '\(input)'")
        case .ambiguous(let ids):
            throw CLIError(
                "'\(input)' matches \(ids.count) \(what)s (\(ids.map { String($0.prefix(12)) }.joined(separator: ", "))); type more of the ID")
        }
    }

    func resolveAgent(_ input: String) async throws -> String {
        try await resolve(input, what: "agent") { try await agents().map(\.id) }
    }

    func resolveJoinToken(_ input: String) async throws -> String {
        try await resolve(input, what: "join token") { try await joinTokens().map(\.id) }
    }
}
