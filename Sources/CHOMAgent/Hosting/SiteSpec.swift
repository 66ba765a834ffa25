package import Foundation
import CHOMTransport

/// Everything one site's nginx server block is rendered from. Values are untrusted until
/// ``validate()`` (which ``NginxSiteConfig/render(_:configuration:)`` always calls) passes.
package struct SiteSpec: Sendable, Equatable {
    package enum Kind: Sendable, Equatable {
        /// nginx serves the release's public directory.
        case `static`
        /// A php-fpm pool per site, reached on its Unix socket.
        case php(socketPath: String)
        /// nginx reverse-proxies to the site's process on 127.0.0.1:`port`.
        case app(port: Int)
    }

    /// A custom certificate delivered in the task, already written to disk.
    package struct TLS: Sendable, Equatable {
        /// PEM chain, leaf first.
        package var certificatePath: String
        package var keyPath: String

        package init(certificatePath: String, keyPath: String) {
            self.certificatePath = certificatePath
            self.keyPath = keyPath
        }
    }

    /// The primary name, first in `server_name`.
    package var domain: String
    package var aliases: [String]
    package var kind: Kind
    /// The document root, `<site>/current/public`: nginx resolves the `current` symlink per
    /// request, so a switch needs no reload.
    package var root: String
    /// nginx checks symlinks' owners on every component after this path (`disable_symlinks
    /// if_not_owner from=`): the site's root-owned `current`, so that a tenant's `public` (or any
    /// later component) that is a link to another site or a root file is refused. nil: from the
    /// document root itself.
    package var symlinksCheckedFrom: String?
    package var accessLog: String
    package var errorLog: String
    package var tls: TLS?
    /// Every request answers 503 with `maintenancePage`.
    package var suspended: Bool
    /// An HTML file served (with status 503) while the site is suspended.
    package var maintenancePage: String
    /// Every request is proxied to this `host:port` (a migrated site's new host) instead of
    /// served here; `isForwardAddress` holds.
    package var forwardTo: String? = nil

    package init(
        domain: String, aliases: [String] = [], kind: Kind, root: String, accessLog: String, errorLog: String,
        tls: TLS? = nil, suspended: Bool = false, maintenancePage: String
    ) {
        self.domain = domain
        self.aliases = aliases
        self.kind = kind
        self.root = root
        self.accessLog = accessLog
        self.errorLog = errorLog
        self.tls = tls
        self.suspended = suspended
        self.maintenancePage = maintenancePage
    }

    /// Paths from the site's tree (`current/public` as root) and the site's log directory, which
    /// is the agent's (outside the tree): `<logs>/access.log` and `<logs>/error.log`.
    package init(
        domain: String, aliases: [String] = [], kind: Kind, layout: SiteLayout, logs: URL, tls: TLS? = nil,
        suspended: Bool = false, maintenancePage: String
    ) {
        self.init(
            domain: domain, aliases: aliases, kind: kind,
            root: layout.current.appendingPathComponent("public", isDirectory: true).path,
            accessLog: logs.appendingPathComponent("access.log").path,
            errorLog: logs.appendingPathComponent("error.log").path,
            tls: tls, suspended: suspended, maintenancePage: maintenancePage)
        symlinksCheckedFrom = layout.current.path
    }

    /// `server_name`'s names: the domain, then the aliases in order.
    package var serverNames: [String] { [domain] + aliases }
}

extension SiteSpec {
    /// `a.b.c.d:port` or `[v6]:port` with a port 1–65535: what `forwardTo` may hold (it reaches the
    /// server block's text).
    package static func isForwardAddress(_ text: String) -> Bool {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (1...65_535).contains(port)
        else { return false }
        let host = String(text[..<colon])
        if host.hasPrefix("[") {
            guard host.hasSuffix("]") else { return false }
            let inner = host.dropFirst().dropLast()
            return inner.contains(":") && inner.allSatisfy { $0.isHexDigit || $0 == ":" || $0 == "." }
                && IPAddressLiteral.bytes(String(inner))?.count == 16
        }
        return host.allSatisfy { $0.isNumber || $0 == "." } && IPAddressLiteral.bytes(host)?.count == 4
    }
}
