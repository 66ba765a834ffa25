/// Why an `AdminClient` call failed. `description` is one line fit for a terminal and never holds
/// the bearer token.
package enum AdminClientError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The coordinator answered with an error (`application/problem+json`, or a bare status).
    case problem(ProblemDetails)
    /// The coordinator could not be reached, or the exchange broke off.
    case transport(String)
    /// The coordinator answered 2xx with a body that does not match the API's types.
    case decoding(String)

    package var description: String {
        switch self {
        case .problem(let problem): "\(problem.detail) (HTTP \(problem.status))"
        case .transport(let message): message
        case .decoding(let message): message
        }
    }

    /// The HTTP status of a `.problem`, else nil.
    package var status: Int? {
        if case .problem(let problem) = self { return problem.status }
        return nil
    }
}
