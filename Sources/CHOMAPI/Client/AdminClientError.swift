/// Why an `AdminClient` call failed. `description` is one line fit for a terminal and never holds
/// the bearer token.
package enum AdminClientError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The coordinator answered with an error (`application/problem+json`, or a bare status).
    case problem(ProblemDetails)
    /// The coordinator answered 429 Too Many Requests; `retryAfter` is its `Retry-After` delay, when given.
    case rateLimited(ProblemDetails, retryAfter: Duration?)
    /// The coordinator could not be reached, or the exchange broke off.
    case transport(String)
    /// The coordinator answered 2xx with a body that does not match the API's types.
    case decoding(String)

    package var description: String {
        switch self {
        case .problem(let problem): "\(problem.detail) (HTTP \(problem.status))"
        case .rateLimited(let problem, let retryAfter?):
            "\(problem.detail) (HTTP \(problem.status)); retry in \(retryAfter.components.seconds) s"
        case .rateLimited(let problem, nil): "\(problem.detail) (HTTP \(problem.status))"
        case .transport(let message): message
        case .decoding(let message): message
        }
    }

    /// The HTTP status of a `.problem` or `.rateLimited`, else nil.
    package var status: Int? {
        switch self {
        case .problem(let problem), .rateLimited(let problem, _): problem.status
        case .transport, .decoding: nil
        }
    }

    /// How long to wait before retrying a `.rateLimited` call, when the coordinator said; else nil.
    package var retryAfter: Duration? {
        if case .rateLimited(_, let retryAfter) = self { return retryAfter }
        return nil
    }
}
