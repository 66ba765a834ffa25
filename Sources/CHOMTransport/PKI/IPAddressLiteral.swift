// IPAddressLiteral.swift
// Parses IPv4 / IPv6 literals into the 4 / 16 network-order bytes that an
// X.509 iPAddress SAN carries.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

package enum IPAddressLiteral {
    /// 4 bytes for an IPv4 literal, 16 for an IPv6 literal (brackets allowed), nil otherwise.
    package static func bytes(_ literal: String) -> [UInt8]? {
        var text = literal
        if text.hasPrefix("["), text.hasSuffix("]") {
            text = String(text.dropFirst().dropLast())
        }
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            return withUnsafeBytes(of: &v4) { Array($0) }
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            return withUnsafeBytes(of: &v6) { Array($0) }
        }
        return nil
    }
}
