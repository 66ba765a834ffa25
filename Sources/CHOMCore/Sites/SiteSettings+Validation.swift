/// The checks a site configuration passes before it is stored or sent: the same limits the agent
/// enforces on a `SiteConfig` (so a stored configuration never fails there for its shape), with a
/// message naming the field. Pure.
extension SiteSettings {
    package static let maximumAliases = 50
    package static let maximumSharedPaths = 50
    package static let maximumHooks = 20
    package static let hookTimeoutRange = 1...3600
    package static let appPortRange = 1024...65_535
    package static let keepReleasesRange = 1...50
    package static let maximumCommandBytes = 4096

    /// The configuration with aliases lowercased, or `.invalidInput` naming what is wrong.
    package func validated(domain: String) throws(CHOMError) -> SiteSettings {
        var spec = self
        spec.aliases = aliases.map { $0.lowercased() }
        guard spec.aliases.count <= Self.maximumAliases else { throw Self.invalid("at most \(Self.maximumAliases) aliases") }
        for alias in spec.aliases {
            guard DomainName.isValid(alias) else { throw Self.invalid("alias '\(alias.prefix(80))' is not a valid domain") }
            guard alias != domain else { throw Self.invalid("alias '\(alias)' is the site's own domain") }
        }
        guard Set(spec.aliases).count == spec.aliases.count else { throw Self.invalid("aliases repeat") }
        switch kind {
        case .app:
            guard let port = appPort, Self.appPortRange.contains(port) else {
                throw Self.invalid("an app site needs appPort from 1024 to 65535")
            }
            guard let command = appCommand, Self.isCommand(command) else {
                throw Self.invalid("an app site needs an appCommand of 1 to 4096 bytes without NUL")
            }
        case .static, .php:
            guard appPort == nil, appCommand == nil else {
                throw Self.invalid("appPort and appCommand are for kind 'app' only")
            }
        }
        guard sharedPaths.count <= Self.maximumSharedPaths else {
            throw Self.invalid("at most \(Self.maximumSharedPaths) shared paths")
        }
        for path in sharedPaths where !Self.isRelativePath(path) {
            throw Self.invalid("shared path '\(path.prefix(80))' must be relative, without '..', '.' or empty parts")
        }
        guard Set(sharedPaths).count == sharedPaths.count else { throw Self.invalid("shared paths repeat") }
        guard hooks.count <= Self.maximumHooks else { throw Self.invalid("at most \(Self.maximumHooks) hooks") }
        for (index, hook) in hooks.enumerated() {
            guard Self.isHookName(hook.name) else {
                throw Self.invalid("hook \(index + 1): name must be 1 to 64 of a-z, A-Z, 0-9, '.', '_', '-'")
            }
            guard Self.isCommand(hook.command) else {
                throw Self.invalid("hook '\(hook.name)': command must be 1 to 4096 bytes without NUL")
            }
            guard Self.hookTimeoutRange.contains(hook.timeoutSeconds) else {
                throw Self.invalid("hook '\(hook.name)': timeoutSeconds must be from 1 to 3600")
            }
        }
        guard Set(hooks.map(\.name)).count == hooks.count else { throw Self.invalid("hook names repeat") }
        if let check = healthCheck {
            guard check.path.hasPrefix("/"), check.path.utf8.count <= 2048,
                check.path.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F })
            else { throw Self.invalid("healthCheck.path must start with '/' and hold printable ASCII only") }
            guard (100...599).contains(check.expectedStatus) else {
                throw Self.invalid("healthCheck.expectedStatus must be from 100 to 599")
            }
            guard (100...60_000).contains(check.timeoutMs) else {
                throw Self.invalid("healthCheck.timeoutMs must be from 100 to 60000")
            }
        }
        if let directory = publicDirectory, !Self.isRelativePath(directory) {
            throw Self.invalid("publicDirectory must be relative, without '..', '.' or empty parts")
        }
        if let keep = keepReleases, !Self.keepReleasesRange.contains(keep) {
            throw Self.invalid("keepReleases must be from 1 to 50")
        }
        return spec
    }

    /// A relative path of plain parts (a trailing '/' allowed): no '..', '.', empty part, leading '/',
    /// NUL or control character; at most 1024 bytes.
    package static func isRelativePath(_ path: String) -> Bool {
        let trimmed = path.hasSuffix("/") ? String(path.dropLast()) : path
        guard !trimmed.isEmpty, trimmed.utf8.count <= 1024, !trimmed.hasPrefix("/") else { return false }
        guard trimmed.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value != 0x7F }) else { return false }
        return trimmed.split(separator: "/", omittingEmptySubsequences: false)
            .allSatisfy { !$0.isEmpty && $0 != "." && $0 != ".." }
    }

    static func isCommand(_ command: String) -> Bool {
        !command.isEmpty && command.utf8.count <= maximumCommandBytes && !command.contains("\0")
    }

    static func isHookName(_ name: String) -> Bool {
        (1...64).contains(name.utf8.count)
            && name.utf8.allSatisfy { byte in
                (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
                    || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
            }
    }

    private static func invalid(_ reason: String) -> CHOMError {
        CHOMError(.invalidInput, "site configuration: \(reason)")
    }
}
