import CHOMCore
import CHOMProtocol

extension SiteKindCapability {
    /// What this agent hosts: static and app sites wherever it hosts at all, php sites when a
    /// php-fpm binary is installed. An agent that does not host (`--hosting off`) places files only
    /// and announces every kind, as before kinds were announced.
    static func announced(by hosting: HostingConfiguration?) -> [String] {
        guard let hosting else { return SiteSettings.Kind.allCases.map(name) }
        var kinds: [SiteSettings.Kind] = [.static, .app]
        if PhpFpmController(configuration: hosting.php).binary != nil { kinds.insert(.php, at: 1) }
        return kinds.map(name)
    }
}
