import CHOMAPI
import CHOMCore
import Foundation
import Hummingbird

/// Cursor pagination: `limit` (1...200, default 50) and an opaque `cursor` (base64url of the
/// last item's sort key). Every list route reads its page through this.
struct Page: Sendable {
    static let maximumLimit = 200
    static let defaultLimit = 50

    let limit: Int
    /// The decoded sort key after which the page starts.
    let after: String?

    init(_ request: Request) throws {
        let query = request.uri.queryParameters
        if let text = query.get("limit") {
            guard let limit = Int(text), (1...Self.maximumLimit).contains(limit) else {
                throw CHOMError(.invalidInput, "limit must be an integer from 1 to \(Self.maximumLimit)")
            }
            self.limit = limit
        } else {
            limit = Self.defaultLimit
        }
        if let cursor = query.get("cursor") {
            guard let data = Self.decode(cursor), let key = String(data: data, encoding: .utf8), !key.isEmpty else {
                throw CHOMError(.invalidInput, "the cursor is not one this server issued")
            }
            after = key
        } else {
            after = nil
        }
    }

    /// The cursor as a UUID, for lists ordered by id.
    var afterUUID: UUID? {
        get throws {
            guard let after else { return nil }
            guard let id = UUID(uuidString: after) else { throw CHOMError(.invalidInput, "the cursor is not one this server issued") }
            return id
        }
    }

    /// The cursor as a sequence number, for the audit log (newest first).
    var afterSequence: Int64? {
        get throws {
            guard let after else { return nil }
            guard let value = Int64(after), value > 0 else { throw CHOMError(.invalidInput, "the cursor is not one this server issued") }
            return value
        }
    }

    /// A list response: a next cursor only when the page is full.
    func response<Item, Response: Codable & Sendable & Equatable>(
        _ items: [Item], key: (Item) -> String, map: (Item) -> Response
    ) throws -> Hummingbird.Response {
        let next = items.count == limit ? items.last.map { Self.encode(key($0)) } : nil
        return try StrictJSON.response(ListResponse(items: items.map(map), nextCursor: next))
    }

    static func encode(_ key: String) -> String { encodeBytes(Array(key.utf8)) }

    /// base64url without padding (the one encoder: `SecurityCoding`).
    static func encodeBytes(_ bytes: [UInt8]) -> String { SecurityCoding.base64URL(bytes) }

    static func decode(_ text: String) -> Data? {
        guard text.utf8.count <= 256 else { return nil }
        return SecurityCoding.bytes(base64URL: text)
    }
}
