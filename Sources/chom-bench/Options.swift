// Argument parsing kept by hand, as chom-bench always did: a few options, no subcommand tree.

/// `--name value` and `--flag` arguments, in any order; unknown ones are an error.
struct Options {
    private var remaining: [String]

    init(_ arguments: [String]) { remaining = arguments }

    mutating func flag(_ name: String) -> Bool {
        guard let index = remaining.firstIndex(of: name) else { return false }
        remaining.remove(at: index)
        return true
    }

    mutating func optionalValue(_ name: String) throws -> String? {
        guard let index = remaining.firstIndex(of: name) else { return nil }
        guard index + 1 < remaining.count else { throw ChildFailure(description: "\(name) needs a value") }
        let value = remaining[index + 1]
        remaining.removeSubrange(index...(index + 1))
        return value
    }

    mutating func value(_ name: String) throws -> String {
        guard let value = try optionalValue(name) else { throw ChildFailure(description: "\(name) is required") }
        return value
    }

    func finish() throws {
        guard remaining.isEmpty else {
            throw ChildFailure(description: "unknown arguments: \(remaining.joined(separator: " "))")
        }
    }
}
