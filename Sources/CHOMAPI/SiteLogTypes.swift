/// `GET /v1/sites/{site}/logs`: the last lines of the site's nginx access or error log, as its
/// agent read them.
package struct SiteLogsResponse: Codable, Sendable, Equatable {
    /// `access` or `error`.
    package var kind: String
    /// Oldest first.
    package var lines: [String]
    /// Fewer lines than asked because the agent's byte cap was reached first.
    package var truncated: Bool

    package init(kind: String, lines: [String], truncated: Bool) {
        self.kind = kind
        self.lines = lines
        self.truncated = truncated
    }

    /// The kinds of log a site has.
    package static let kinds = ["access", "error"]
    /// `tail` bounds and default.
    package static let tailRange = 1...1000
    package static let defaultTail = 100
}
