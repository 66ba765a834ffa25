package import CHOMCore

/// The site kinds an agent can host, announced in `Hello.capabilities` as `site_kind_<kind>`: the
/// scheduler places a site only on an agent announcing its kind. An agent that announces none (an
/// older one) is taken to host every kind.
package enum SiteKindCapability {
    package static let prefix = "site_kind_"

    package static func name(_ kind: SiteSettings.Kind) -> String { prefix + kind.rawValue }

    /// The kinds `capabilities` announce; nil when they announce none.
    package static func kinds(in capabilities: [String]) -> Set<SiteSettings.Kind>? {
        let kinds = Set(capabilities.compactMap { name -> SiteSettings.Kind? in
            guard name.hasPrefix(prefix) else { return nil }
            return SiteSettings.Kind(rawValue: String(name.dropFirst(prefix.count)))
        })
        return kinds.isEmpty ? nil : kinds
    }
}
