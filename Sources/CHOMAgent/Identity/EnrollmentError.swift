/// Why enrollment failed. Messages never contain the join token or key material.
package enum EnrollmentError: Error, Equatable, Sendable, CustomStringConvertible {
    /// An identity already exists in the state directory.
    case alreadyEnrolled(directory: String)
    /// `--ca-sha256` is not 64 hex digits.
    case malformedPin
    /// The coordinator address cannot be used (empty host, port out of range).
    case invalidAddress(String)
    /// The TLS handshake was refused by the CA pin check: not our coordinator, or a wrong pin.
    case pinRejected(String)
    /// The coordinator answered the call with an error status (bad token, exhausted token, …).
    case rejected(code: String, message: String)
    /// No answer: connection refused, timeout, TLS failure unrelated to the pin.
    case unreachable(String)
    /// The response is unusable (certificate for another key, bad envelope key, …).
    case invalidResponse(String)
    /// The CA in the response is not the pinned CA.
    case caMismatch(pinned: String, received: String)
    /// The identity could not be written.
    case storage(String)

    package var description: String {
        switch self {
        case .alreadyEnrolled(let directory):
            "this agent is already enrolled (identity in \(directory)); remove it to enroll again"
        case .malformedPin:
            "the CA fingerprint (--ca-sha256) must be 64 hexadecimal digits"
        case .invalidAddress(let detail):
            "invalid coordinator address: \(detail)"
        case .pinRejected(let detail):
            "coordinator certificate refused: \(detail)"
        case .rejected(let code, let message):
            "the coordinator refused the enrollment (\(code)): \(message)"
        case .unreachable(let detail):
            "cannot reach the coordinator: \(detail)"
        case .invalidResponse(let detail):
            "the coordinator sent an unusable enrollment response: \(detail)"
        case .caMismatch(let pinned, let received):
            "the coordinator returned CA \(received), not the pinned CA \(pinned)"
        case .storage(let detail):
            "cannot store the identity: \(detail)"
        }
    }
}
