/// The shape check for a SHA-256 written in lowercase hex (encoding is CHOMCore's `Hex`).
enum BackupHex {
    /// Exactly 64 characters of `0-9a-f`.
    static func isSHA256(_ text: String) -> Bool {
        text.utf8.count == 64
            && text.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }
}
