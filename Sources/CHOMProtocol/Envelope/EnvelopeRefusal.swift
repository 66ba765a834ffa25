/// Why an agent refused an envelope. Each case is counted in metrics by `reason`
/// and reported back to the coordinator. None of them is a crash.
package enum EnvelopeRefusal: Error, Equatable, Sendable, CustomStringConvertible {
    /// 1. A part or the whole is larger than the limits allow, or the signature has the wrong length.
    case oversize(part: String, size: Int, limit: Int)
    /// The header bytes are not a valid EnvelopeHeader.
    case malformedHeader
    /// 2. The header names a signing key the agent does not trust.
    case unknownKey(keyID: String)
    /// 3. The signature does not verify over tag ‖ header ‖ payload.
    case badSignature
    /// 4. The envelope is addressed to another agent.
    case misaddressed(audience: String)
    /// 5. Issued in the future beyond the skew allowance.
    case notYetValid
    /// 5. Past its expiry (plus the skew allowance).
    case expired
    /// 6. This sequence was already accepted.
    case replayed(sequence: UInt64)
    /// 6. This sequence is older than the replay window remembers.
    case stale(sequence: UInt64)
    /// 7. The payload does not decompress to exactly the declared size within the cap.
    case decompression(String)
    /// 8. The payload is not a Task, or disagrees with its header.
    case undecodable(String)

    /// A low-cardinality label for metrics.
    package var reason: String {
        switch self {
        case .oversize: "oversize"
        case .malformedHeader: "malformed_header"
        case .unknownKey: "unknown_key"
        case .badSignature: "bad_signature"
        case .misaddressed: "misaddressed"
        case .notYetValid: "not_yet_valid"
        case .expired: "expired"
        case .replayed: "replayed"
        case .stale: "stale"
        case .decompression: "decompression"
        case .undecodable: "undecodable"
        }
    }

    package var description: String {
        switch self {
        case .oversize(let part, let size, let limit): "envelope \(part) is \(size) bytes, limit \(limit)"
        case .malformedHeader: "envelope header is not a valid EnvelopeHeader"
        case .unknownKey(let keyID): "envelope signed with unknown key id \(keyID)"
        case .badSignature: "envelope signature does not verify"
        case .misaddressed(let audience): "envelope addressed to agent \(audience), not this agent"
        case .notYetValid: "envelope issued in the future"
        case .expired: "envelope expired"
        case .replayed(let sequence): "envelope sequence \(sequence) was already accepted"
        case .stale(let sequence): "envelope sequence \(sequence) is older than the replay window"
        case .decompression(let detail): "envelope payload refused while decompressing: \(detail)"
        case .undecodable(let detail): "envelope payload is not a valid task: \(detail)"
        }
    }
}
