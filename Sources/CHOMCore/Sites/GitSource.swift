/// A git repository and ref a deploy clones. Both end up as arguments of `git` on an agent, so
/// they are held to shapes that cannot be read as options or shell text. Pure.
package struct GitSource: Sendable, Equatable {
    package var url: String
    package var ref: String

    /// `file:///path`, `https://host/path`, `ssh://[user@]host[:port]/path` or scp-style
    /// `user@host:path`; a ref of `[A-Za-z0-9._/-]` that `git check-ref-format` would accept.
    package init(url: String, ref: String) throws(CHOMError) {
        guard Self.isURL(url) else {
            throw CHOMError(
                .invalidInput,
                "git.url must be file:///…, https://…, ssh://… or user@host:path, without spaces or a password")
        }
        guard Self.isRef(ref) else {
            throw CHOMError(
                .invalidInput, "git.ref must be a branch, tag or commit: 1 to 255 of A-Z a-z 0-9 . _ / -, "
                    + "not starting with '-' or '/', without '..', '//' or a '.lock' ending")
        }
        self.url = url
        self.ref = ref
    }

    static func isURL(_ url: String) -> Bool {
        guard (1...2048).contains(url.utf8.count), !url.hasPrefix("-"),
            url.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F })
        else { return false }
        for scheme in ["file:///", "https://", "ssh://"] where url.hasPrefix(scheme) {
            // No password in the URL (it would land in tasks and the audit log): use a deploy key.
            let authority = url.dropFirst(scheme.count).prefix { $0 != "/" }
            let userInfo = authority.contains("@") ? authority.prefix { $0 != "@" } : ""
            if scheme == "https://" && authority.contains("@") || userInfo.contains(":") { return false }
            return url.utf8.count > scheme.utf8.count && !url.contains("::")
        }
        // scp-style: user@host:path (no scheme, a host, a path).
        guard let at = url.firstIndex(of: "@"), let colon = url[at...].firstIndex(of: ":") else { return false }
        let user = url[..<at]
        let host = url[url.index(after: at)..<colon]
        let path = url[url.index(after: colon)...]
        let plain: (Character) -> Bool = { $0.isLetter || $0.isNumber || "._-".contains($0) }
        return !user.isEmpty && user.allSatisfy(plain) && !host.isEmpty && host.allSatisfy(plain) && !path.isEmpty
            && !path.hasPrefix("-")
    }

    static func isRef(_ ref: String) -> Bool {
        guard (1...255).contains(ref.utf8.count), !ref.hasPrefix("-"), !ref.hasPrefix("/"), !ref.hasSuffix("/"),
            !ref.hasSuffix("."), !ref.hasSuffix(".lock"), !ref.contains(".."), !ref.contains("//"),
            !ref.contains("/.")
        else { return false }
        return ref.utf8.allSatisfy { byte in
            (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
                || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "/")
                || byte == UInt8(ascii: "-")
        } && !ref.hasPrefix(".")
    }
}
