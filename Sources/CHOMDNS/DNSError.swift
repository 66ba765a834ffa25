package import CHOMCore

/// Why a DNS operation failed. The description names the operation, the zone or name, the HTTP
/// status and the provider's own `error` text; never the API key (the provider also redacts the
/// key from any text the server sends back).
package struct DNSError: Error, CustomStringConvertible, CustomDebugStringConvertible, Sendable {
    package enum Code: String, Sendable, Hashable {
        /// A site id, domain, alias or zone that would give an invalid DNS name.
        case invalidName = "invalid_name"
        /// An agent address that is not an IPv4 or IPv6 address.
        case invalidAddress = "invalid_address"
        /// The site's agent has no public address: there is nothing to point the names at.
        case noAddress = "no_address"
        /// The provider refused the credentials (HTTP 401/403).
        case unauthorized
        /// The zone does not exist on the provider (HTTP 404).
        case zoneNotFound = "zone_not_found"
        /// The zone already exists (HTTP 409 on create).
        case conflict
        /// The provider refused the change (HTTP 400/422: out of zone, CNAME conflict, …).
        case rejected
        /// No answer, a timeout, or a server error (HTTP 5xx): worth retrying later.
        case unavailable
        /// An answer that could not be read (not JSON, too large).
        case invalidResponse = "invalid_response"
        /// The provider's settings are unusable (bad URL, missing key).
        case configuration
        /// A request that could not be built (a bug, not the provider's fault).
        case `internal`
    }

    package var code: Code
    package var message: String
    /// The HTTP status when the provider answered.
    package var status: Int?
    /// The provider's own explanation (PowerDNS's `error` field), already in `message`.
    package var providerError: String?
    package var file: String
    package var line: Int
    /// What the transport said, for `debugDescription` (logs), never shown to tenants.
    package var underlying: String?

    package init(
        _ code: Code, _ message: String, status: Int? = nil, providerError: String? = nil, underlying: String? = nil,
        file: String = #fileID, line: Int = #line
    ) {
        self.code = code
        self.message = message
        self.status = status
        self.providerError = providerError
        self.underlying = underlying
        self.file = file
        self.line = line
    }

    package var description: String { message }

    package var debugDescription: String {
        var text = "dns \(code.rawValue): \(message) (\(file):\(line))"
        if let underlying { text += " caused by \(underlying)" }
        return text
    }

    /// The same failure as CHOM's general error, for the API's problem+json mapping: a bad name
    /// is the caller's fault; a refused key is the operator's configuration; the rest is a
    /// dependency that is down or refusing.
    package var chomError: CHOMError {
        let mapped: CHOMError.Code =
            switch code {
            case .invalidName, .invalidAddress, .noAddress: .invalidInput
            case .unauthorized, .configuration: .configuration
            case .zoneNotFound: .notFound
            case .conflict: .conflict
            case .rejected: .refused
            case .unavailable, .invalidResponse: .unavailable
            case .internal: .internal
            }
        return CHOMError(mapped, message, underlying: self, file: file, line: line)
    }
}
