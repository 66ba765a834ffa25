import CHOMCore
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Which URLs an organization's webhook may name (pure). A webhook is set by a customer's admin and
/// posted to by the coordinator from inside the hosting company's network, so by default only
/// https URLs naming public addresses are accepted: no loopback, private, link-local, shared
/// (CGNAT), benchmark, multicast or reserved ranges, no credentials in the URL, and no
/// `localhost` names. The name's addresses are checked again at each delivery (`check(resolved:)`).
struct WebhookAddressPolicy: Sendable, Equatable {
    var allowPrivateAddresses = false
    var allowPlainHTTP = false

    static let maximumURLLength = 2_048
    /// The ports a URL may name unless private addresses are allowed.
    static let webPorts: Set<Int> = [80, 443, 8080, 8443]

    /// The URL, or a clear refusal.
    func check(url text: String) throws -> URL {
        guard text.utf8.count <= Self.maximumURLLength else {
            throw CHOMError(.invalidInput, "a webhook URL is at most \(Self.maximumURLLength) bytes")
        }
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
            let host = components.host, !host.isEmpty, let url = components.url
        else { throw CHOMError(.invalidInput, "the webhook URL is not an absolute URL") }
        guard scheme == "https" || (scheme == "http" && allowPlainHTTP) else {
            throw CHOMError(
                .invalidInput, allowPlainHTTP ? "a webhook URL is http:// or https://" : "a webhook URL must be https://")
        }
        guard components.user == nil, components.password == nil else {
            throw CHOMError(.invalidInput, "a webhook URL carries no credentials (the signature authenticates CHOM)")
        }
        guard components.fragment == nil else { throw CHOMError(.invalidInput, "a webhook URL has no fragment") }
        if let port = components.port, !(1...65535).contains(port) {
            throw CHOMError(.invalidInput, "the webhook URL's port must be 1 to 65535")
        }
        guard !allowPrivateAddresses else { return url }
        // Web ports only: a webhook is not a way to knock on a host's other services.
        let port = components.port ?? (scheme == "https" ? 443 : 80)
        guard Self.webPorts.contains(port) else {
            throw CHOMError(.invalidInput, "a webhook URL's port is one of \(Self.webPorts.sorted().map(String.init).joined(separator: ", "))")
        }
        let name = host.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "[]."))
        if name == "localhost" || name.hasSuffix(".localhost") || name.hasSuffix(".local") || name.hasSuffix(".internal") {
            throw CHOMError(.invalidInput, "the webhook URL names a local host")
        }
        if let bytes = Self.literal(name), !Self.isPublic(bytes) {
            throw CHOMError(.invalidInput, "the webhook URL's address is not a public address")
        }
        return url
    }

    /// Every address the URL's name resolved to must be public.
    func check(resolved addresses: [[UInt8]]) throws {
        guard !allowPrivateAddresses else { return }
        guard !addresses.isEmpty else { throw CHOMError(.unavailable, "the webhook's host name did not resolve") }
        guard addresses.allSatisfy(Self.isPublic) else {
            throw CHOMError(.invalidInput, "the webhook's host name resolves to an address that is not public")
        }
    }

    /// A URL as it is listed and audited: its scheme, host and port, and "/…" if it has more.
    static func shown(_ url: String) -> String {
        guard let components = URLComponents(string: url), let scheme = components.scheme, let host = components.host else {
            return "(hidden)"
        }
        let hostText = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        let base = "\(scheme)://\(hostText)\(components.port.map { ":\($0)" } ?? "")"
        let more = !(components.percentEncodedPath.isEmpty || components.percentEncodedPath == "/") || components.query != nil
        return more ? base + "/…" : base
    }

    /// The bytes of an IPv4 or IPv6 literal, or nil for a name.
    static func literal(_ text: String) -> [UInt8]? {
        // Into plain byte buffers, not in_addr/in6_addr: a release build resolves those types
        // through NIO's CNIOLinux, which this module does not import.
        var v4 = [UInt8](repeating: 0, count: 4)
        if inet_pton(AF_INET, text, &v4) == 1 { return v4 }
        var v6 = [UInt8](repeating: 0, count: 16)
        if inet_pton(AF_INET6, text, &v6) == 1 { return v6 }
        return nil
    }

    /// Whether an address (4 or 16 bytes) is globally routable: not in a special-purpose range
    /// (RFC 6890 and successors).
    static func isPublic(_ address: [UInt8]) -> Bool {
        if address.count == 4 { return isPublicV4(address) }
        guard address.count == 16 else { return false }
        let a = address
        // IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d) and NAT64 (64:ff9b::/96): the IPv4 inside.
        if a[0..<10].allSatisfy({ $0 == 0 }) && a[10] == 0xff && a[11] == 0xff { return isPublicV4(Array(a[12...])) }
        // IPv4-translated (::ffff:0:a.b.c.d, RFC 2765): the IPv4 inside.
        if a[0..<8].allSatisfy({ $0 == 0 }) && a[8] == 0xff && a[9] == 0xff && a[10] == 0 && a[11] == 0 {
            return isPublicV4(Array(a[12...]))
        }
        if a[0..<12].allSatisfy({ $0 == 0 }) { return false }  // ::, ::1 and the deprecated compatible form
        if a[0] == 0x01 && a[1..<8].allSatisfy({ $0 == 0 }) { return false }  // 100::/64, discard
        if a[0] == 0x00 && a[1] == 0x64 && a[2] == 0xff && a[3] == 0x9b && a[4] == 0x00 && a[5] == 0x01 {
            return false  // 64:ff9b:1::/48, local-use NAT64 (its IPv4 is not at a fixed place)
        }
        if a[0] == 0x00 && a[1] == 0x64 && a[2] == 0xff && a[3] == 0x9b { return isPublicV4(Array(a[12...])) }
        if a[0] & 0xfe == 0xfc { return false }  // fc00::/7, unique local
        if a[0] == 0xfe && a[1] & 0xc0 == 0x80 { return false }  // fe80::/10, link-local
        if a[0] == 0xfe && a[1] & 0xc0 == 0xc0 { return false }  // fec0::/10, site-local (deprecated)
        if a[0] == 0xff { return false }  // multicast
        if a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x0d && a[3] == 0xb8 { return false }  // 2001:db8::/32, documentation
        if a[0] == 0x20 && a[1] == 0x02 { return false }  // 2002::/16, 6to4 (can embed any IPv4)
        if a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x00 && a[3] == 0x00 { return false }  // 2001::/32, Teredo
        return true
    }

    private static func isPublicV4(_ a: [UInt8]) -> Bool {
        switch (a[0], a[1], a[2]) {
        case (0, _, _), (10, _, _), (127, _, _): false  // this network, private, loopback
        case (100, 64...127, _): false  // shared address space (CGNAT)
        case (169, 254, _): false  // link-local (cloud metadata)
        case (172, 16...31, _): false
        case (192, 168, _): false
        case (192, 0, 0), (192, 0, 2), (198, 51, 100), (203, 0, 113): false  // protocol assignments, documentation
        case (198, 18...19, _): false  // benchmarking
        case (224...255, _, _): false  // multicast, reserved, broadcast
        default: true
        }
    }
}
