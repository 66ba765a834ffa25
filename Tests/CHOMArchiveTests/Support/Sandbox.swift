import Foundation

/// A fresh temporary directory holding an empty `outside/` and a not-yet-existing `dest/`, so a
/// test can prove extraction wrote nothing next to its destination.
struct Sandbox {
    let id = UUID().uuidString
    let root: URL

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("chom-archive-test-\(id)")
        try FileManager.default.createDirectory(at: outside, withIntermediateDirectories: true)
    }

    var outside: URL { root.appendingPathComponent("outside") }
    var destination: URL { root.appendingPathComponent("dest") }
    var scratch: URL { root.appendingPathComponent("scratch") }

    /// Names in the sandbox root other than `outside` and `scratch` (anything else escaped).
    func strayNames() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: root.path)
            .filter { $0 != "outside" && $0 != "scratch" && $0 != "dest" }
    }

    func outsideContents() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: outside.path)
    }

    func exists(_ url: URL) -> Bool {
        var st = stat()
        return lstat(url.path, &st) == 0
    }

    func remove() {
        try? FileManager.default.removeItem(at: root)
    }

    /// Runs `body` with a new sandbox and removes it afterwards.
    static func with<R>(_ body: (Sandbox) throws -> R) throws -> R {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        return try body(sandbox)
    }
}
