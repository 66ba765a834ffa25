/// `GET /v1/sites/{site}/logs`: the last lines of the site's nginx access or error log, as its
/// agent read them.
package struct SiteLogsResponse: Codable, Sendable, Equatable {
    /// `access` or `error`.
    package var kind: String
    /// Oldest first.
    package var lines: [String]
    /// Fewer lines than asked because the agent's byte cap was reached first; on a follow read
    /// (`after`), more lines are waiting: read again at once.
    package var truncated: Bool
    /// Pass back as `after` to read only the lines written since (absent from an agent that
    /// does not hand out positions).
    package var cursor: String?
    /// A follow read that could not go on where the cursor stopped (the log was rotated twice or
    /// cut meanwhile): it started the current log from its beginning, and lines may be missing.
    package var gap: Bool

    private enum CodingKeys: String, CodingKey {
        case kind, lines, truncated, cursor, gap
    }

    /// `gap` absent (a coordinator from before following) reads as false.
    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        kind = try container.decode(String.self, forKey: .kind)
        lines = try container.decode([String].self, forKey: .lines)
        truncated = try container.decode(Bool.self, forKey: .truncated)
        cursor = try container.decodeIfPresent(String.self, forKey: .cursor)
        gap = try container.decodeIfPresent(Bool.self, forKey: .gap) ?? false
    }

    package init(kind: String, lines: [String], truncated: Bool, cursor: String? = nil, gap: Bool = false) {
        self.kind = kind
        self.lines = lines
        self.truncated = truncated
        self.cursor = cursor
        self.gap = gap
    }

    /// The kinds of log a site has.
    package static let kinds = ["access", "error"]
    /// `tail` bounds and default.
    package static let tailRange = 1...1000
    package static let defaultTail = 100
    /// Lines per answer of a follow read when `tail` is not given.
    package static let followLimit = 1000
}
