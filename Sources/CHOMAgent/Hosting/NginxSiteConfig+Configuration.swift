extension NginxSiteConfig {
    /// How nginx is asked for HTTP/2 on the TLS listener.
    package enum HTTP2Syntax: Sendable, Equatable {
        /// `listen 443 ssl http2;`: nginx before 1.25.1 (Debian bookworm ships 1.22); newer
        /// versions accept it with a deprecation warning.
        case listenParameter
        /// `listen 443 ssl;` and `http2 on;`: nginx 1.25.1 and later.
        case directive

        /// The syntax for the version in `nginx -v`'s output (`nginx version: nginx/1.22.1`);
        /// ``listenParameter`` when the version cannot be read, as every version accepts it.
        package static func forNginxVersion(_ output: String) -> HTTP2Syntax {
            guard let range = output.firstRange(of: "nginx/") else { return .listenParameter }
            let version = output[range.upperBound...].prefix { $0.isNumber || $0 == "." }
            let parts = version.split(separator: ".").compactMap { Int($0) }
            guard parts.count >= 2 else { return .listenParameter }
            let triple = (parts[0], parts[1], parts.count > 2 ? parts[2] : 0)
            return triple >= (1, 25, 1) ? .directive : .listenParameter
        }
    }

    /// Host-wide settings, the same for every site on an agent.
    package struct Configuration: Sendable, Equatable {
        /// The plain HTTP port.
        package var httpPort = 80
        /// The TLS port; the HTTP listener redirects here when a site has TLS.
        package var httpsPort = 443
        package var http2: HTTP2Syntax = .listenParameter
        /// The agent's fence file (``SiteFence``), included in every server block that serves a
        /// site's content: empty while the agent holds its site lease, a 503 for every request
        /// once it has lost it. Nil: no include (nginx configurations without a fence).
        package var fenceInclude: String?

        package init() {}

        package func validate() throws(SiteSpecError) {
            try SiteSpec.checkPort(httpPort, .httpPort)
            try SiteSpec.checkPort(httpsPort, .httpsPort)
            guard httpPort != httpsPort else {
                throw SiteSpecError(field: .httpsPort, reason: "the same port as http_port")
            }
            if let fenceInclude { try SiteSpec.checkPath(fenceInclude, .fenceInclude) }
        }
    }
}
