import CHOMTransport

/// Where an agent's sites are reached: the addresses it reported (IP literals only, at most 4), or
/// else the address its stream comes from. Unless `allowInternal`, loopback, link-local,
/// unspecified and multicast addresses are dropped: a compromised agent could otherwise have DNS,
/// a migration's proxy on another agent and the coordinator's health probe aim at a host's own
/// services or a cloud metadata endpoint. Pure.
enum PublicAddresses {
    static func resolve(reported: [String], remotePeer: String, allowInternal: Bool = false) -> [String] {
        let usable = { (address: String) -> Bool in
            guard let bytes = IPAddressLiteral.bytes(address) else { return false }
            return allowInternal || !isInternal(bytes)
        }
        let valid = reported.prefix(8).filter { !$0.hasPrefix("[") && usable($0) }
        if !valid.isEmpty { return Array(valid.prefix(4)) }
        guard var host = MetricsAddress.peerHost(remotePeer) else { return [] }
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return usable(host) ? [host] : []
    }

    /// The port an agent's nginx serves HTTP on, as it reported it; 80 when it said nothing usable.
    static func httpPort(_ reported: UInt32) -> Int {
        (1...65_535).contains(reported) ? Int(reported) : 80
    }

    /// Loopback, unspecified, link-local or multicast (IPv4, IPv6, IPv4-mapped IPv6).
    static func isInternal(_ bytes: [UInt8]) -> Bool {
        if bytes.count == 16 {
            if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xFF && bytes[11] == 0xFF {
                return isInternal(Array(bytes[12..<16]))
            }
            if bytes[0..<15].allSatisfy({ $0 == 0 }) { return true }  // :: and ::1
            if bytes[0] == 0xFE && bytes[1] & 0xC0 == 0x80 { return true }  // fe80::/10
            return bytes[0] == 0xFF  // ff00::/8
        }
        guard bytes.count == 4 else { return true }
        return bytes[0] == 127 || bytes[0] == 0 || (bytes[0] == 169 && bytes[1] == 254) || bytes[0] >= 224
    }
}
