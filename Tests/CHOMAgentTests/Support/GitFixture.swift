import CHOMTesting
import Foundation

/// A local bare git repository with one commit of `files`, tagged, made with the system's git.
enum GitFixture {
    static func bareRepository(files: [String: String], tag: String) throws -> URL {
        let base = try TemporaryDirectory.make(prefix: "h-git")
        let work = base.appendingPathComponent("work")
        let bare = base.appendingPathComponent("site.git")
        for (path, text) in files {
            let url = work.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(text.utf8).write(to: url)
        }
        let identity = ["-c", "user.name=CHOM test", "-c", "user.email=test@chom.test"]
        try git(["init", "-q", work.path])
        try git(["-C", work.path, "add", "."])
        try git(identity + ["-C", work.path, "commit", "-q", "-m", "first"])
        try git(["-C", work.path, "tag", tag])
        try git(["clone", "-q", "--bare", work.path, bare.path])
        return bare
    }

    private static func git(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/git")
        process.arguments = arguments
        process.environment = ["PATH": "/usr/bin:/bin", "HOME": "/nonexistent", "GIT_CONFIG_NOSYSTEM": "1"]
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: "git \(arguments.joined(separator: " ")) failed"])
        }
    }
}
