/// CHOM's error: a stable code, a message that never holds a secret, where it was raised,
/// and the underlying error for logs (`debugDescription`).
package struct CHOMError: Error, CustomStringConvertible, CustomDebugStringConvertible, Sendable {
    package enum Code: String, Sendable, Codable {
        case invalidInput = "invalid_input"
        case notFound = "not_found"
        case conflict
        case unauthorized
        case forbidden
        case payloadTooLarge = "payload_too_large"
        case unavailable
        case configuration
        case integrity
        case refused
        case `internal`
    }

    package var code: Code
    package var message: String
    package var file: String
    package var line: Int
    package var underlying: (any Error & Sendable)?

    package init(
        _ code: Code, _ message: String, underlying: (any Error & Sendable)? = nil,
        file: String = #fileID, line: Int = #line
    ) {
        self.code = code
        self.message = message
        self.underlying = underlying
        self.file = file
        self.line = line
    }

    package var description: String { message }

    package var debugDescription: String {
        var text = "\(code.rawValue): \(message) (\(file):\(line))"
        if let underlying { text += " caused by \(String(reflecting: underlying))" }
        return text
    }
}
