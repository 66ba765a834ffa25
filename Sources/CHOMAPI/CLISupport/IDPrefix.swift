import Foundation

/// Lets operators type the first characters of an ID, as the tables show them.
package enum IDPrefix {
    package enum Match: Sendable, Equatable {
        case one(String)
        case none
        case ambiguous([String])
    }

    /// A full UUID is taken as typed; anything else must be the prefix of exactly one of `ids`.
    package static func isFullID(_ text: String) -> Bool {
        UUID(uuidString: text) != nil
    }

    package static func match(_ prefix: String, among ids: [String]) -> Match {
        let wanted = prefix.lowercased()
        let matches = ids.filter { $0.lowercased().hasPrefix(wanted) }
        switch matches.count {
        case 0: return .none
        case 1: return .one(matches[0])
        default: return .ambiguous(matches.sorted())
        }
    }
}
