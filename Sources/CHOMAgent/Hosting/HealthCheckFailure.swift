/// Why a health check failed, in words an operator reads as-is: `connection refused`,
/// `timed out after 5 s`, `status 502, expected 200`.
package struct HealthCheckFailure: Error, Sendable, Equatable, CustomStringConvertible {
    package enum Reason: Sendable, Equatable {
        case connectionRefused
        case timedOut(Duration)
        case unexpectedStatus(Int, expected: Int)
        /// The connection closed before a whole response arrived.
        case incompleteResponse
        /// Any other connection or protocol error, described.
        case failed(String)
        /// The host or path could not be sent as given.
        case invalidRequest(String)
    }

    package var reason: Reason

    package init(_ reason: Reason) {
        self.reason = reason
    }

    package var description: String {
        switch reason {
        case .connectionRefused: "connection refused"
        case .timedOut(let limit): "timed out after \(limit.secondsText)"
        case .unexpectedStatus(let status, let expected): "status \(status), expected \(expected)"
        case .incompleteResponse: "the connection closed before a complete response"
        case .failed(let what): what
        case .invalidRequest(let what): "invalid request: \(what)"
        }
    }
}
