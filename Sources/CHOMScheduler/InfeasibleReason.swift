package import CHOMCore

/// Why one agent cannot take one site.
package enum InfeasibleReason: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Not online.
    case health(AgentHealth)
    /// Cordoned, draining or drained.
    case scheduling(SchedulingState)
    /// A label constraint of the site, by its key, is not met.
    case label(String)
    /// The agent cannot serve the site's kind.
    case kind(SiteSettings.Kind)
    /// Used + requested exceeds what the agent allocates on this dimension.
    case insufficient(ResourceDimension)
    /// The caller left the agent out (the agent a site moves away from).
    case excluded

    package var description: String {
        switch self {
        case .health(let health): health.rawValue
        case .scheduling(let state): state.rawValue
        case .label(let key): "label \(key) not matched"
        case .kind(let kind): "\(kind.rawValue) unsupported"
        case .insufficient(let dimension): "insufficient \(dimension.rawValue)"
        case .excluded: "excluded"
        }
    }

    /// The short name of the reason, as in the JSON `{"reason": "insufficient", "detail": "disk"}`.
    package var code: String {
        switch self {
        case .health: "health"
        case .scheduling: "scheduling"
        case .label: "label"
        case .kind: "kind"
        case .insufficient: "insufficient"
        case .excluded: "excluded"
        }
    }

    package var detail: String? {
        switch self {
        case .health(let health): health.rawValue
        case .scheduling(let state): state.rawValue
        case .label(let key): key
        case .kind(let kind): kind.rawValue
        case .insufficient(let dimension): dimension.rawValue
        case .excluded: nil
        }
    }

    /// A stable order for summaries: by code, then detail.
    static func < (lhs: InfeasibleReason, rhs: InfeasibleReason) -> Bool {
        (lhs.code, lhs.detail ?? "") < (rhs.code, rhs.detail ?? "")
    }

    private enum CodingKeys: String, CodingKey { case reason, detail }

    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let code = try container.decode(String.self, forKey: .reason)
        let detail = try container.decodeIfPresent(String.self, forKey: .detail)
        func value<T: RawRepresentable<String>>(_: T.Type) throws -> T {
            guard let detail, let value = T(rawValue: detail) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .detail, in: container, debugDescription: "unknown detail for \(code)")
            }
            return value
        }
        switch code {
        case "health": self = .health(try value(AgentHealth.self))
        case "scheduling": self = .scheduling(try value(SchedulingState.self))
        case "label":
            guard let detail else {
                throw DecodingError.dataCorruptedError(forKey: .detail, in: container, debugDescription: "no label key")
            }
            self = .label(detail)
        case "kind": self = .kind(try value(SiteSettings.Kind.self))
        case "insufficient": self = .insufficient(try value(ResourceDimension.self))
        case "excluded": self = .excluded
        default:
            throw DecodingError.dataCorruptedError(forKey: .reason, in: container, debugDescription: "unknown reason")
        }
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(code, forKey: .reason)
        try container.encodeIfPresent(detail, forKey: .detail)
    }
}
