/// Domain validation shared by the API, the CLI and the agent (which uses it in paths).
package enum DomainName {
    /// A lowercase DNS name: labels of [a-z0-9-], 1–63 chars, not starting or ending with '-', ≤ 253 chars.
    package static func isValid(_ name: String) -> Bool {
        guard !name.isEmpty, name.utf8.count <= 253 else { return false }
        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 1 else { return false }
        for label in labels {
            guard (1...63).contains(label.utf8.count), label.first != "-", label.last != "-" else { return false }
            for byte in label.utf8 {
                let ok = (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39) || byte == 0x2D
                if !ok { return false }
            }
        }
        return true
    }
}
