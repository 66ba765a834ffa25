/// A condition on an agent's labels that a site places on where it may run, e.g.
/// `region equals eu-west` or `zone in [a, b]`.
package struct LabelConstraint: Sendable, Hashable, Codable {
    package enum Operator: String, Sendable, Hashable, CaseIterable, Codable {
        /// The label is present and equals `values[0]`.
        case equals
        /// The label is absent or differs from `values[0]` (as Nomad's `!=`).
        case notEquals
        /// The label is present and one of `values`.
        case `in`
        /// The label is present, whatever its value.
        case exists
    }

    package var key: String
    package var `operator`: Operator
    package var values: [String]

    package init(key: String, operator: Operator, values: [String] = []) {
        self.key = key
        self.operator = `operator`
        self.values = values
    }

    package static func equals(_ key: String, _ value: String) -> LabelConstraint {
        LabelConstraint(key: key, operator: .equals, values: [value])
    }

    package func matches(_ labels: [String: String]) -> Bool {
        let value = labels[key]
        switch `operator` {
        case .equals: return value != nil && value == values.first
        case .notEquals: return value == nil || value != values.first
        case .in: return value.map { values.contains($0) } ?? false
        case .exists: return value != nil
        }
    }
}
