import CHOMCore

extension SiteSpec {
    /// The bytes a path may hold: letters, digits and `. _ + @ - /`. This excludes whitespace,
    /// quotes, `;`, `{`, `}`, `$`, `#`, `\`, newlines, NUL and every other control character, so
    /// a path is always one plain nginx token and can neither end a directive nor open a block,
    /// a comment or a variable.
    package static let pathCharacters = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._+@-/"

    private static let pathScalars = Set(pathCharacters.unicodeScalars)

    /// The longest Unix socket path: `sun_path` is 108 bytes with the terminating NUL.
    package static let maximumSocketPathLength = 107

    /// Refuses every value that is not a plain domain name, an absolute path or a port, naming
    /// the first field that fails. Rendering calls this before writing a single line.
    package func validate() throws(SiteSpecError) {
        guard DomainName.isValid(domain) else {
            throw SiteSpecError(field: .domain, reason: "not a lowercase DNS name")
        }
        var seen: Set<String> = [domain]
        for (index, alias) in aliases.enumerated() {
            guard DomainName.isValid(alias) else {
                throw SiteSpecError(field: .alias(index), reason: "not a lowercase DNS name")
            }
            guard seen.insert(alias).inserted else {
                throw SiteSpecError(field: .alias(index), reason: "repeats a name already in server_name")
            }
        }
        try Self.checkPath(root, .root)
        if let from = symlinksCheckedFrom {
            try Self.checkPath(from, .root)
            guard root == from || root.hasPrefix(from + "/") else {
                throw SiteSpecError(field: .root, reason: "the symlink check must start at or above the document root")
            }
        }
        try Self.checkPath(accessLog, .accessLog)
        try Self.checkPath(errorLog, .errorLog)
        try Self.checkPath(maintenancePage, .maintenancePage)
        switch kind {
        case .static:
            break
        case .php(let socketPath):
            try Self.checkPath(socketPath, .phpSocket)
            guard socketPath.utf8.count <= Self.maximumSocketPathLength else {
                throw SiteSpecError(
                    field: .phpSocket, reason: "longer than \(Self.maximumSocketPathLength) bytes, too long for a Unix socket")
            }
        case .app(let port):
            try Self.checkPort(port, .appPort)
        }
        if let tls {
            try Self.checkPath(tls.certificatePath, .certificate)
            try Self.checkPath(tls.keyPath, .certificateKey)
        }
    }

    /// An absolute, normalised path of ``pathCharacters``: no empty, `.` or `..` component.
    package static func checkPath(_ path: String, _ field: SiteSpecError.Field) throws(SiteSpecError) {
        guard !path.isEmpty else { throw SiteSpecError(field: field, reason: "empty") }
        guard path.utf8.count <= 4096 else { throw SiteSpecError(field: field, reason: "longer than 4096 bytes") }
        if let bad = path.unicodeScalars.first(where: { !pathScalars.contains($0) }) {
            let code = String(bad.value, radix: 16, uppercase: true)
            throw SiteSpecError(
                field: field,
                reason: "holds U+\(String(repeating: "0", count: max(0, 4 - code.count)) + code), "
                    + "outside the path characters [A-Za-z0-9._+@/-]")
        }
        guard path.hasPrefix("/") else { throw SiteSpecError(field: field, reason: "not an absolute path") }
        let components = path.dropFirst().split(separator: "/", omittingEmptySubsequences: false)
        for component in components {
            if component.isEmpty {
                throw SiteSpecError(field: field, reason: "has an empty component (`//` or a trailing `/`)")
            }
            if component == "." || component == ".." {
                throw SiteSpecError(field: field, reason: "has a `.` or `..` component")
            }
        }
    }

    /// A TCP port, 1–65535.
    package static func checkPort(_ port: Int, _ field: SiteSpecError.Field) throws(SiteSpecError) {
        guard (1...65_535).contains(port) else {
            throw SiteSpecError(field: field, reason: "port \(port) is outside 1–65535")
        }
    }
}
