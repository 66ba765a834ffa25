package import CHOMCore

/// The Linux user (and group) a site's files, php-fpm pool, app process and build hooks run as:
/// `chom_` and the first 12 hex digits of the site id, e.g. `chom_3f2a9c41b7d0` (17 bytes).
///
/// Derived, never chosen: the same site id gives the same name on every agent, which a restore
/// onto another agent relies on. 48 bits of a random (v4) UUID make a clash between two sites of
/// one host negligible; the creator of a user still refuses a name that already exists.
package struct SiteUserName: Sendable, Hashable, CustomStringConvertible {
    package static let prefix = "chom_"
    /// Hex digits of the site id kept in the name.
    package static let hexDigits = 12
    /// useradd's limit (`LOGIN_NAME_MAX` - 1 on Linux).
    package static let maximumLength = 32

    package let rawValue: String

    package init(site: SiteID) {
        let hex = site.description.filter { $0 != "-" }
        rawValue = Self.prefix + hex.prefix(Self.hexDigits)
    }

    /// Accepts only the derived form (`chom_` + 12 lowercase hex digits), so a name that arrives
    /// from elsewhere can never be `root`, `www-data` or another system account.
    package init?(rawValue: String) {
        guard rawValue.hasPrefix(Self.prefix) else { return nil }
        let hex = rawValue.utf8.dropFirst(Self.prefix.utf8.count)
        guard hex.count == Self.hexDigits,
            hex.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) })
        else { return nil }
        self.rawValue = rawValue
    }

    /// True when the site id would derive this name.
    package func belongs(to site: SiteID) -> Bool { self == SiteUserName(site: site) }

    package var description: String { rawValue }

    /// useradd's portable rule: `[a-z_][a-z0-9_-]*`, 1–32 bytes (no trailing `$`, no
    /// uppercase, no leading digit or dash).
    package static func isValidLinuxUserName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard let first = bytes.first, bytes.count <= maximumLength else { return false }
        let lower: ClosedRange<UInt8> = 0x61...0x7A
        let digit: ClosedRange<UInt8> = 0x30...0x39
        guard lower.contains(first) || first == 0x5F else { return false }
        return bytes.dropFirst().allSatisfy { lower.contains($0) || digit.contains($0) || $0 == 0x5F || $0 == 0x2D }
    }
}
