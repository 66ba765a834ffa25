/// A ``SiteSpec`` value refused before anything is rendered. `description` names the field and
/// the rule it broke; it never echoes the value (which may hold a newline or an injection).
package struct SiteSpecError: Error, Sendable, Equatable, CustomStringConvertible {
    package enum Field: Sendable, Hashable, CustomStringConvertible {
        case domain
        /// The alias at this index of `aliases`.
        case alias(Int)
        case root
        case accessLog
        case errorLog
        case phpSocket
        case appPort
        case certificate
        case certificateKey
        case maintenancePage
        case httpPort
        case httpsPort
        case forwardTo
        case fenceInclude

        package var description: String {
            switch self {
            case .domain: "domain"
            case .alias(let index): "aliases[\(index)]"
            case .root: "root"
            case .accessLog: "access_log"
            case .errorLog: "error_log"
            case .phpSocket: "php_socket"
            case .appPort: "app_port"
            case .certificate: "tls_certificate"
            case .certificateKey: "tls_certificate_key"
            case .maintenancePage: "maintenance_page"
            case .httpPort: "http_port"
            case .httpsPort: "https_port"
            case .forwardTo: "forward_to"
            case .fenceInclude: "fence_include"
            }
        }
    }

    package var field: Field
    package var reason: String

    package init(field: Field, reason: String) {
        self.field = field
        self.reason = reason
    }

    package var description: String { "invalid site spec: \(field): \(reason)" }
}
