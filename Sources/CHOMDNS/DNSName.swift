import CHOMCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Names and addresses as CHOM writes them: fully qualified, lowercase, with the trailing dot
/// that PowerDNS requires, and addresses in their canonical text (so `2001:0db8::0001` and
/// `2001:db8::1`, which PowerDNS stores as the latter, compare equal).
package enum DNSName {
    /// Lowercase with one trailing dot; no validation.
    package static func fullyQualified(_ name: String) -> String {
        let lower = name.lowercased()
        return lower.hasSuffix(".") ? lower : lower + "."
    }

    /// The name fully qualified, or `.invalidName` when it is not a host name CHOM may write:
    /// labels of letters, digits and inner hyphens, 1–63 characters each, at most 253 in all,
    /// at least two labels (a bare TLD is never a site's name).
    package static func validated(_ name: String, what: String) throws(DNSError) -> String {
        let qualified = fullyQualified(name)
        let bare = String(qualified.dropLast())
        guard DomainName.isValid(bare), bare.contains(".") else {
            throw DNSError(.invalidName, "\(what) '\(name.prefix(80))' is not a valid DNS name")
        }
        return qualified
    }

    /// A zone name fully qualified; one label is allowed (a private TLD such as `test.`), the root is not.
    package static func validatedZone(_ zone: String) throws(DNSError) -> String {
        let qualified = fullyQualified(zone)
        guard DomainName.isValid(String(qualified.dropLast())) else {
            throw DNSError(.invalidName, "zone '\(zone.prefix(80))' is not a valid DNS name")
        }
        return qualified
    }

    /// Whether `name` is `zone` or below it (both fully qualified).
    package static func isInside(_ name: String, zone: String) -> Bool {
        let name = fullyQualified(name)
        let zone = fullyQualified(zone)
        return name == zone || name.hasSuffix("." + zone)
    }

    /// The most specific of `zones` that holds `name`, or nil: with `example.test.` and
    /// `shop.example.test.` both served, `www.shop.example.test.` belongs to the second.
    package static func servingZone(for name: String, among zones: [String]) -> String? {
        zones.map(fullyQualified).filter { isInside(name, zone: $0) }.max { $0.count < $1.count }
    }

    /// The label a site id gives its fleet name: lowercase, one valid label.
    package static func validatedLabel(_ label: String, what: String) throws(DNSError) -> String {
        let lower = label.lowercased()
        guard !lower.contains("."), DomainName.isValid(lower) else {
            throw DNSError(.invalidName, "\(what) '\(label.prefix(80))' is not a valid DNS label")
        }
        return lower
    }

    /// An IPv4 address in dotted-quad form, or nil when `text` is not one.
    package static func canonicalIPv4(_ text: String) -> String? {
        canonical(text, family: AF_INET, size: 4)
    }

    /// An IPv6 address in RFC 5952 form (what `inet_ntop` prints), or nil when `text` is not one.
    package static func canonicalIPv6(_ text: String) -> String? {
        canonical(text, family: AF_INET6, size: 16)
    }

    private static func canonical(_ text: String, family: Int32, size: Int) -> String? {
        var bytes = [UInt8](repeating: 0, count: size)
        guard inet_pton(family, text, &bytes) == 1 else { return nil }
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        guard inet_ntop(family, bytes, &buffer, socklen_t(buffer.count)) != nil else { return nil }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
