package import CHOMCore
package import CHOMProtocol
import Foundation

/// A site's configuration as the agent acts on it: a `SiteConfig` from a signed task, every
/// field checked. Paths, names and commands here are safe to use: domains are DNS names,
/// shared paths are relative and normalised, the app port is unprivileged.
package struct HostedSite: Sendable, Equatable {
    package enum Kind: String, Sendable, Equatable {
        case `static`, php, app
    }

    package struct Hook: Sendable, Equatable {
        package var name: String
        package var command: String
        package var timeout: Duration
    }

    package struct Health: Sendable, Equatable {
        package var path: String
        package var expectedStatus: Int
        package var timeout: Duration
    }

    package var siteID: SiteID
    /// The tenant's id as sent (a metrics label); empty when the task did not say.
    package var tenantID: String
    package var domain: String
    package var aliases: [String]
    package var kind: Kind
    package var appPort: Int
    package var appCommand: String
    package var sharedPaths: [String]
    package var hooks: [Hook]
    package var health: Health
    package var certificateChainPEM: String?
    package var privateKeyPEM: String?
    package var publicDirectory: String
    package var keepReleases: Int
    package var suspended: Bool
    /// A migrated site's old host: nginx forwards every request to this `host:port` (an IP
    /// literal, IPv6 in brackets) instead of serving the tree. nil: serve the site.
    package var forwardTo: String? = nil
    /// Failover is off for this site: the agent's fence leaves it served (``SiteFence``).
    package var fenceExempt = false

    package var user: SiteUserName { SiteUserName(site: siteID) }

    /// Limits on what a task may ask for.
    package static let maximumHooks = 20
    package static let maximumHookTimeout = 3600
    package static let maximumSharedPaths = 50

    package init(_ config: Chom_Agent_V1_SiteConfig) throws(CHOMError) {
        guard let id = SiteID(config.siteID) else { throw Self.invalid("site_id is not a UUID") }
        guard DomainName.isValid(config.domain) else { throw Self.invalid("domain \"\(config.domain.prefix(64))\" is not a lowercase DNS name") }
        for alias in config.aliases where !DomainName.isValid(alias) || alias == config.domain {
            throw Self.invalid("alias \"\(alias.prefix(64))\" is not a lowercase DNS name distinct from the domain")
        }
        guard Set(config.aliases).count == config.aliases.count else { throw Self.invalid("aliases repeat") }
        siteID = id
        tenantID = config.tenantID.isEmpty ? "" : (TenantID(config.tenantID)?.description ?? "")
        domain = config.domain
        aliases = config.aliases
        switch config.kind {
        case .static, .unspecified: kind = .static
        case .php: kind = .php
        case .app: kind = .app
        case .UNRECOGNIZED(let value): throw Self.invalid("site kind \(value) is unknown to this agent")
        }
        appPort = Int(config.appPort)
        appCommand = config.appCommand
        if kind == .app {
            guard (1024...65_535).contains(appPort) else { throw Self.invalid("app_port must be 1024–65535") }
            guard !appCommand.isEmpty, appCommand.utf8.count <= 4096, !appCommand.contains("\0") else {
                throw Self.invalid("an app site needs an app_command (at most 4096 bytes)")
            }
        }
        guard config.sharedPaths.count <= Self.maximumSharedPaths else { throw Self.invalid("more than \(Self.maximumSharedPaths) shared paths") }
        sharedPaths = try config.sharedPaths.map { path throws(CHOMError) in try Self.relativePath(path, field: "shared path") }
        guard config.hooks.count <= Self.maximumHooks else { throw Self.invalid("more than \(Self.maximumHooks) hooks") }
        hooks = try config.hooks.enumerated().map { index, hook throws(CHOMError) in
            guard !hook.command.isEmpty, hook.command.utf8.count <= 4096, !hook.command.contains("\0") else {
                throw Self.invalid("hook \(index + 1) needs a command of at most 4096 bytes")
            }
            let seconds = hook.timeoutSeconds == 0 ? 600 : Int(hook.timeoutSeconds)
            guard seconds <= Self.maximumHookTimeout else { throw Self.invalid("hook \(index + 1): timeout over \(Self.maximumHookTimeout) s") }
            let name = hook.name.isEmpty ? "hook \(index + 1)" : String(hook.name.prefix(64))
            return Hook(name: name, command: hook.command, timeout: .seconds(seconds))
        }
        let check = config.healthCheck
        let path = check.path.isEmpty ? "/" : check.path
        guard path.hasPrefix("/"), path.utf8.count <= 2048,
            path.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F })
        else { throw Self.invalid("health check path must start with / and hold printable ASCII only") }
        let expected = check.expectedStatus == 0 ? 200 : Int(check.expectedStatus)
        guard (100...599).contains(expected) else { throw Self.invalid("expected status must be 100–599") }
        let timeout = check.timeoutMs == 0 ? 5000 : min(Int(check.timeoutMs), 60_000)
        health = Health(path: path, expectedStatus: expected, timeout: .milliseconds(timeout))
        if config.hasTls {
            guard config.tls.certificateChainPem.contains("-----BEGIN CERTIFICATE-----"),
                config.tls.privateKeyPem.contains("PRIVATE KEY-----")
            else { throw Self.invalid("tls needs a PEM certificate chain and a PEM private key") }
            certificateChainPEM = config.tls.certificateChainPem
            privateKeyPEM = config.tls.privateKeyPem
        }
        publicDirectory = config.publicDirectory.isEmpty
            ? "public" : try Self.relativePath(config.publicDirectory, field: "public directory")
        keepReleases = config.keepReleases == 0 ? 5 : min(Int(config.keepReleases), 50)
        suspended = config.suspended
        fenceExempt = config.fenceExempt
        if !config.forwardTo.isEmpty {
            guard SiteSpec.isForwardAddress(config.forwardTo) else {
                throw Self.invalid("forward_to must be an IP address and port (host:port, IPv6 as [addr]:port)")
            }
            forwardTo = config.forwardTo
        }
    }

    /// A bare static site for a deploy task that carries no configuration.
    package init(siteID: SiteID, domain: String) {
        self.siteID = siteID
        tenantID = ""
        self.domain = domain
        aliases = []
        kind = .static
        appPort = 0
        appCommand = ""
        sharedPaths = []
        hooks = []
        health = Health(path: "/", expectedStatus: 200, timeout: .seconds(5))
        publicDirectory = "public"
        keepReleases = 5
        suspended = false
    }

    /// A relative path of plain components: no `..`, `.`, empty component, leading `/` or NUL.
    /// A trailing `/` (a directory, for shared paths) is kept.
    static func relativePath(_ path: String, field: String) throws(CHOMError) -> String {
        let trimmed = path.hasSuffix("/") ? String(path.dropLast()) : path
        guard !trimmed.isEmpty, trimmed.utf8.count <= 1024, !trimmed.hasPrefix("/"), !trimmed.contains("\0") else {
            throw invalid("\(field) \"\(path.prefix(64))\" must be a relative path")
        }
        for component in trimmed.split(separator: "/", omittingEmptySubsequences: false)
        where component.isEmpty || component == "." || component == ".." {
            throw invalid("\(field) \"\(path.prefix(64))\" has an empty, `.` or `..` component")
        }
        return path
    }

    private static func invalid(_ reason: String) -> CHOMError {
        CHOMError(.invalidInput, "site configuration: \(reason)")
    }
}
