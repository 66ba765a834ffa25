import Foundation

/// A fresh temporary directory for one test, removed by `remove()`.
struct ScratchDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("chom-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func remove() { try? FileManager.default.removeItem(at: url) }

    /// `home/.config/chom/credentials.json` under this directory.
    var credentialsFile: URL { url.appendingPathComponent("home/.config/chom/credentials.json") }

    /// `home/.config/chom/token` under this directory.
    var legacyFile: URL { url.appendingPathComponent("home/.config/chom/token") }

    func mode(of file: URL) throws -> Int {
        let attributes = try FileManager.default.attributesOfItem(atPath: file.path)
        return ((attributes[.posixPermissions] as? NSNumber)?.intValue ?? -1) & 0o777
    }

    func setMode(_ mode: Int, of file: URL) throws {
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: file.path)
    }

    /// Writes `contents` to `file` (creating its directory) with `mode`.
    func write(_ contents: String, to file: URL, mode: Int = 0o600) throws {
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(contents.utf8).write(to: file)
        try setMode(mode, of: file)
    }
}
