package import Foundation

/// Where the coordinator's admin API is: `--coordinator` > `CHOM_COORDINATOR` > the default.
package enum CoordinatorAddress {
    package static let environmentVariable = "CHOM_COORDINATOR"
    package static let defaultAddress = "http://127.0.0.1:8080"

    /// The address text to use, before parsing.
    package static func text(flag: String?, environment: [String: String]) -> String {
        if let flag, !flag.isEmpty { return flag }
        if let value = environment[environmentVariable], !value.isEmpty { return value }
        return defaultAddress
    }

    /// An `http`/`https` URL with a host, or nil.
    package static func parse(_ text: String) -> URL? {
        guard let components = URLComponents(string: text),
            let scheme = components.scheme?.lowercased(), scheme == "http" || scheme == "https",
            let host = components.host, !host.isEmpty,
            components.query == nil, components.fragment == nil
        else { return nil }
        return components.url
    }
}
