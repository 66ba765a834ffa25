import CHOMCore
import Foundation

/// One of this package's executables, for tests that run it as a process of its own.
package enum BuiltBinary {
    /// `$<variable>`, else `<name>` beside the running test binary (SwiftPM builds them into the
    /// same directory), else `.build/debug/<name>`.
    package static func path(_ name: String, variable: String) throws -> String {
        let environment = ProcessInfo.processInfo.environment
        var candidates: [String] = []
        if let path = environment[variable], !path.isEmpty { candidates.append(path) }
        let running = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        candidates.append(running.deletingLastPathComponent().appendingPathComponent(name).path)
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        candidates.append(repository.appendingPathComponent(".build/debug/\(name)").path)
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw CHOMError(
                .unavailable,
                "\(name) is not built (looked at \(candidates.joined(separator: ", "))): run `swift build`, or set \(variable)")
        }
        return found
    }
}
