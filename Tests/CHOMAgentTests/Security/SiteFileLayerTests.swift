import Foundation
import Testing

/// "One module touches site trees": the agent's code that deals with sites (executors, hosting,
/// backups, metrics) may not call a path-based file API, except on a line that says why its path
/// is not a tenant's (`// not a tenant path: …`). Everything else goes through `CHOMSiteFiles`.
/// The agent's identity, journal, session and configuration code touch only its state directory
/// and /proc, so they are not scanned.
@Suite("Site-file layer: no path-based file access in site code")
struct SiteFileLayerTests {
    static let scanned = ["Executors", "Sites", "Hosting", "BackupTasks", "Metrics", "Logs"]
    static let exemption = "not a tenant path:"

    static let patterns: [(name: String, regex: NSRegularExpression)] = [
        ("FileManager", try! NSRegularExpression(pattern: #"(FileManager\.default|\bmanager)\.(removeItem|moveItem|copyItem|createDirectory|contentsOfDirectory|createFile|createSymbolicLink|attributesOfItem|setAttributes|fileExists|linkItem|enumerator|subpathsOfDirectory|destinationOfSymbolicLink)"#)),
        ("FileHandle", try! NSRegularExpression(pattern: #"FileHandle\((forReadingFrom|forWritingTo|forUpdating|forReadingAtPath|forWritingAtPath)"#)),
        ("Data file I/O", try! NSRegularExpression(pattern: #"Data\(contentsOf|\.write\(to:|String\(contentsOf"#)),
        ("resolving symlinks", try! NSRegularExpression(pattern: #"resolvingSymlinksInPath|realpath\("#)),
        ("AtomicFile", try! NSRegularExpression(pattern: #"AtomicFile\.write"#)),
        ("POSIX path call", try! NSRegularExpression(pattern: #"(?<![\w.])(open|creat|unlink|rename|mkdir|rmdir|chmod|chown|lchown|opendir|lstat|readlink|symlink|link|truncate|utimes|mkfifo)\(\s*[^)\s]"#)),
        ("stat by path", try! NSRegularExpression(pattern: #"(?<![\w.])stat\(\s*[^)\s]"#)),
    ]

    static func sourceRoot() -> URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Sources/CHOMAgent")
    }

    static func violations(in text: String, file: String) -> [String] {
        var found: [String] = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let code = line.trimmingCharacters(in: .whitespaces)
            if code.hasPrefix("//") || line.contains(exemption) { continue }
            let text = String(line)
            for pattern in patterns
            where pattern.regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil {
                found.append("\(file):\(index + 1): \(pattern.name): \(code)")
            }
        }
        return found
    }

    @Test("site code calls no path-based file API without saying why")
    func noPathBasedCalls() throws {
        let root = Self.sourceRoot()
        var violations: [String] = []
        var scannedFiles = 0
        for directory in Self.scanned {
            let base = root.appendingPathComponent(directory)
            // Subdirectories too (Hosting/Cgroups).
            let names = try FileManager.default.subpathsOfDirectory(atPath: base.path).filter { $0.hasSuffix(".swift") }.sorted()
            for name in names {
                let text = try String(contentsOf: base.appendingPathComponent(name), encoding: .utf8)
                violations += Self.violations(in: text, file: "\(directory)/\(name)")
                scannedFiles += 1
            }
        }
        #expect(scannedFiles > 40, "the scan found too few files; has the layout moved?")
        #expect(violations.isEmpty, "path-based file access outside CHOMSiteFiles:\n\(violations.joined(separator: "\n"))")
    }

    @Test("the check catches what it is meant to catch")
    func catches() {
        let samples = [
            "try FileManager.default.removeItem(at: layout.site)",
            "let fd = open(path, O_RDONLY)",
            "guard rename(staging.path, release.path) == 0 else {",
            "let directory = layout.current.resolvingSymlinksInPath()",
            "if stat(path, &status) == 0 {",
            "try manager.createDirectory(at: inShared, withIntermediateDirectories: true)",
        ]
        for sample in samples {
            #expect(!Self.violations(in: sample, file: "x").isEmpty, "not caught: \(sample)")
        }
        let fine = [
            "let fd = openat(descriptor, name, O_RDONLY | O_NOFOLLOW)",
            "var st = stat()",
            "try directory.rename(name, to: other)",
            "let fd = open(path, O_RDONLY)  // not a tenant path: the agent's log directory",
            "guard fstat(fd, &st) == 0",
        ]
        for sample in fine {
            #expect(Self.violations(in: sample, file: "x").isEmpty, "wrongly caught: \(sample)")
        }
    }
}
