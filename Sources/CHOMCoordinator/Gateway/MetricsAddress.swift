/// Resolves the metrics address an agent reports: a wildcard or empty host becomes the
/// IP its stream comes from (gRPC peer strings look like `ipv4:127.0.0.1:5000` or `ipv6:[::1]:5000`).
enum MetricsAddress {
    static func resolve(reported: String, remotePeer: String) -> String {
        guard let colon = reported.lastIndex(of: ":"), let port = Int(reported[reported.index(after: colon)...]),
            (1...65535).contains(port)
        else { return "" }
        let host = String(reported[..<colon])
        if !["", "0.0.0.0", "[::]", "::"].contains(host) { return String(reported.prefix(300)) }
        guard let peer = peerHost(remotePeer) else { return "" }
        return "\(peer):\(port)"
    }

    static func peerHost(_ remotePeer: String) -> String? {
        if remotePeer.hasPrefix("ipv4:") {
            let rest = remotePeer.dropFirst(5)
            guard let colon = rest.lastIndex(of: ":") else { return nil }
            return String(rest[..<colon])
        }
        if remotePeer.hasPrefix("ipv6:") {
            let rest = remotePeer.dropFirst(5)
            guard let close = rest.lastIndex(of: "]") else { return nil }
            return String(rest[...close])
        }
        return nil
    }
}
