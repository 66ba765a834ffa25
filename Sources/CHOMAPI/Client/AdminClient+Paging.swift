import Foundation

/// Query strings and cursor pagination for the list routes (`{items, nextCursor}`; `cursor` and
/// `limit` in the query).
extension AdminClient {
    /// The page size used when following every page: the largest the API accepts.
    package static let pageSizeForAll = 200

    /// "?name=value&…" for the items whose value is not nil, in order; "" when none is. Names and
    /// values are percent-encoded so that only RFC 3986 unreserved characters stay as they are
    /// ("+", "&", "=", "/", ":" and spaces are escaped).
    package static func query(_ items: [(name: String, value: String?)]) -> String {
        let pairs = items.compactMap { item in item.value.map { "\(escape(item.name))=\(escape($0))" } }
        return pairs.isEmpty ? "" : "?" + pairs.joined(separator: "&")
    }

    /// The `cursor` and `limit` query items of a list route.
    package static func pageQuery(cursor: String?, limit: Int?) -> [(name: String, value: String?)] {
        [("cursor", cursor), ("limit", limit.map(String.init))]
    }

    /// Fetches pages, passing each page's `nextCursor` to the next fetch (nil for the first), until a
    /// page has none; returns every item in order. A cursor the coordinator already gave is an error
    /// rather than a loop.
    package static func collectPages<Item>(
        _ fetch: (_ cursor: String?) async throws(AdminClientError) -> ListResponse<Item>
    ) async throws(AdminClientError) -> [Item] {
        var items: [Item] = []
        var cursor: String?
        var seen: Set<String> = []
        repeat {
            let page = try await fetch(cursor)
            items += page.items
            cursor = page.nextCursor
            if let cursor, !seen.insert(cursor).inserted {
                throw .decoding("the coordinator answered a cursor it had already given; stopping the listing")
            }
        } while cursor != nil
        return items
    }

    /// One page of a list route.
    func page<Item: Codable & Sendable & Equatable>(
        _ path: String, cursor: String?, limit: Int?, filters: [(name: String, value: String?)] = []
    ) async throws(AdminClientError) -> ListResponse<Item> {
        try await json(.get, path + Self.query(filters + Self.pageQuery(cursor: cursor, limit: limit)))
    }

    /// Every item of a list route, following `nextCursor`.
    func all<Item: Codable & Sendable & Equatable>(
        _ path: String, filters: [(name: String, value: String?)] = []
    ) async throws(AdminClientError) -> [Item] {
        try await Self.collectPages { cursor throws(AdminClientError) in
            try await page(path, cursor: cursor, limit: Self.pageSizeForAll, filters: filters)
        }
    }

    private static let unreserved = CharacterSet(
        charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    private static func escape(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? text
    }
}
