package import Foundation

/// One HTTP request to S3-compatible storage as SigV4 sees it: the path and query are held
/// decoded, and encoded exactly once here, so the signed form and the URL sent are the same bytes.
package struct SigV4Request: Sendable {
    /// The payload digest sent as `x-amz-content-sha256` and signed.
    package enum Payload: Sendable, Equatable {
        /// The body is not signed (`UNSIGNED-PAYLOAD`); TLS protects it in transit.
        case unsigned
        /// Lowercase hex SHA-256 of the body.
        case sha256Hex(String)

        /// SHA-256 of the empty body, for GET, HEAD and DELETE.
        package static let empty = Payload.sha256Hex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")

        package var value: String {
            switch self {
            case .unsigned: "UNSIGNED-PAYLOAD"
            case .sha256Hex(let hex): hex
            }
        }
    }

    package var method: String
    /// `https` or `http`; only used to build `url`, never signed.
    package var scheme: String
    /// A DNS name or an IP literal (IPv6 without brackets).
    package var host: String
    /// Nil, or the scheme's default port, leaves the port out of the `host` header.
    package var port: Int?
    /// The decoded path, starting with `/`: `/bucket/dir/my file.txt`.
    package var path: String
    /// Decoded name/value pairs; a parameter without a value (`?uploads`) has the value "".
    package var query: [(name: String, value: String)]
    /// Headers to sign besides `host`, `x-amz-date` and `x-amz-content-sha256`, which the signer sets.
    package var headers: [(name: String, value: String)]
    package var payload: Payload

    package init(
        method: String, scheme: String = "https", host: String, port: Int? = nil, path: String,
        query: [(name: String, value: String)] = [], headers: [(name: String, value: String)] = [],
        payload: Payload = .empty
    ) {
        self.method = method
        self.scheme = scheme
        self.host = host
        self.port = port
        self.path = path
        self.query = query
        self.headers = headers
        self.payload = payload
    }

    /// Takes a URL apart: percent-escapes in the path and the query are decoded once; `+` stays a plus.
    /// Nil for a URL without a host or with a malformed escape.
    package init?(
        method: String, url: URL, headers: [(name: String, value: String)] = [], payload: Payload = .empty
    ) {
        guard let components = URLComponents(url: url, resolvingAgainstBaseURL: false),
            let host = components.host, !host.isEmpty
        else { return nil }
        var path = ""
        for (index, segment) in components.percentEncodedPath.split(separator: "/", omittingEmptySubsequences: false)
            .enumerated()
        {
            guard let decoded = String(segment).removingPercentEncoding else { return nil }
            path += index == 0 ? decoded : "/" + decoded
        }
        var query: [(name: String, value: String)] = []
        if let raw = components.percentEncodedQuery, !raw.isEmpty {
            for pair in raw.split(separator: "&") {
                let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                guard let name = String(parts[0]).removingPercentEncoding,
                    let value = parts.count > 1 ? String(parts[1]).removingPercentEncoding : ""
                else { return nil }
                query.append((name, value))
            }
        }
        let bareHost = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        self.init(
            method: method, scheme: components.scheme ?? "https", host: bareHost, port: components.port,
            path: path.isEmpty ? "/" : path, query: query, headers: headers, payload: payload)
    }

    /// The `host` header: the port only when it is not the scheme's default; IPv6 in brackets.
    package var hostHeader: String {
        let name = host.contains(":") ? "[\(host)]" : host
        guard let port else { return name }
        let isDefault = (scheme == "https" && port == 443) || (scheme == "http" && port == 80)
        return isDefault ? name : "\(name):\(port)"
    }

    /// The canonical URI: every path segment URI-encoded once, `/` kept.
    package var encodedPath: String {
        let path = self.path.isEmpty ? "/" : self.path
        return path.split(separator: "/", omittingEmptySubsequences: false)
            .map { Self.uriEncode(String($0)) }
            .joined(separator: "/")
    }

    /// The canonical query: names and values URI-encoded (`/` too), sorted by name then value.
    package var canonicalQuery: String {
        let encoded: [(name: String, value: String)] = query.map {
            (Self.uriEncode($0.name), Self.uriEncode($0.value))
        }
        let sorted = encoded.sorted { (a, b) -> Bool in a.name == b.name ? a.value < b.value : a.name < b.name }
        return sorted.map { "\($0.name)=\($0.value)" }.joined(separator: "&")
    }

    /// The URL to send: the same encoded path and query that were signed.
    package var url: String {
        let query = canonicalQuery
        return "\(scheme)://\(hostHeader)\(encodedPath)" + (query.isEmpty ? "" : "?\(query)")
    }

    /// S3's `UriEncode`: RFC 3986 unreserved characters (`A-Z a-z 0-9 - . _ ~`) stay, every other
    /// UTF-8 byte becomes `%XX` in uppercase hex. Encoded strings are ASCII, so `<` orders them bytewise.
    package static func uriEncode(_ text: String) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        let hex = Array("0123456789ABCDEF".utf8)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                out.append(byte)
            default:
                out += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
