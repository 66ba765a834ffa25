#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CHOMAgent
import CHOMBackup
import CHOMCore
import Crypto
import Foundation
import Testing

@Suite("Backup manifests")
struct BackupManifestTests {
    typealias Entry = BackupManifest.Entry

    /// 2.5 MiB of a repeating pattern: hashed across three 1 MiB chunks.
    static let largeContent = Data((0..<(5 * 512 * 1024)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 9) })
    static let unicodeName = "ünï cödé.txt"

    static func sha256(_ data: Data) -> String { SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined() }

    /// A fresh tree, removed after `body`:
    /// files at several depths, an empty file and directory, a large file, a non-ASCII name,
    /// a dangling symlink and a symlink to a directory.
    static func withTree<R>(_ body: (URL) throws -> R) throws -> R {
        let root = FileManager.default.temporaryDirectory
            .appendingPathComponent("chom-manifest-tests-" + UUID().uuidString.lowercased(), isDirectory: true)
        let fm = FileManager.default
        defer { try? fm.removeItem(at: root) }
        for directory in ["assets", "a/b/c", "logs"] {
            try fm.createDirectory(at: root.appendingPathComponent(directory), withIntermediateDirectories: true)
        }
        try Data("hello".utf8).write(to: root.appendingPathComponent("index.html"))
        try Data("console.log(1)\n".utf8).write(to: root.appendingPathComponent("assets/app.js"))
        try Data("deep\n".utf8).write(to: root.appendingPathComponent("a/b/c/deep.txt"))
        try Data().write(to: root.appendingPathComponent("empty"))
        try largeContent.write(to: root.appendingPathComponent("a/large.bin"))
        try Data("unicode".utf8).write(to: root.appendingPathComponent(unicodeName))
        try fm.setAttributes([.posixPermissions: 0o600], ofItemAtPath: root.appendingPathComponent("a/b/c/deep.txt").path)
        try fm.createSymbolicLink(atPath: root.appendingPathComponent("current").path, withDestinationPath: "releases/r1")
        try fm.createSymbolicLink(atPath: root.appendingPathComponent("shortcut").path, withDestinationPath: "assets")
        return try body(root)
    }

    static func mode(_ url: URL) throws -> UInt32 {
        let attributes = try FileManager.default.attributesOfItem(atPath: url.path)
        return UInt32((attributes[.posixPermissions] as? NSNumber)?.uint32Value ?? 0)
    }

    @Test("a tree's manifest lists every path once, sorted by bytes, without following symlinks")
    func build() throws {
        try Self.withTree { root in
            let manifest = try BackupManifest.build(from: root)
            #expect(
                manifest.entries.map(\.path) == [
                    "a", "a/b", "a/b/c", "a/b/c/deep.txt", "a/large.bin", "assets", "assets/app.js", "current", "empty",
                    "index.html", "logs", "shortcut", Self.unicodeName,
                ])
            #expect(manifest.formatVersion == 1)
            #expect(manifest.archive == nil)
            let index = try #require(manifest.entry(at: "index.html"))
            #expect(index.kind == .file)
            #expect(index.size == 5)
            #expect(index.sha256 == Self.sha256(Data("hello".utf8)))
            #expect(index.mode == (try Self.mode(root.appendingPathComponent("index.html"))))
            let large = try #require(manifest.entry(at: "a/large.bin"))
            #expect(large.size == UInt64(Self.largeContent.count))
            #expect(large.sha256 == Self.sha256(Self.largeContent))
            #expect(manifest.entry(at: "empty")?.sha256 == Self.sha256(Data()))
            #expect(manifest.entry(at: "a/b/c/deep.txt")?.mode == 0o600)
            #expect(manifest.entry(at: "current") == .symlink("current", target: "releases/r1", mode: 0o777))
            #expect(manifest.entry(at: "shortcut") == .symlink("shortcut", target: "assets", mode: 0o777))
            #expect(manifest.entry(at: "logs")?.kind == .directory)
            #expect(manifest.entry(at: "logs")?.size == 0)
            #expect(manifest.entry(at: "shortcut/app.js") == nil)
        }
    }

    @Test("the canonical JSON round-trips, is byte-stable and the tree verifies clean against it")
    func roundTrip() throws {
        try Self.withTree { root in
            let built = try BackupManifest.build(from: root)
                .withArchive(.init(sha256: String(repeating: "ab", count: 32), byteCount: 1234))
            let json = try built.canonicalJSON()
            let decoded = try BackupManifest(json: json)
            #expect(decoded == built)
            #expect(try decoded.canonicalJSON() == json)
            let shuffled = try BackupManifest(entries: built.entries.shuffled(), archive: built.archive)
            #expect(try shuffled.canonicalJSON() == json)
            #expect(try decoded.verify(extractedTree: root) == [])
        }
    }

    @Test("the canonical JSON has sorted keys, no whitespace, unescaped slashes and omits absent fields")
    func canonicalForm() throws {
        let manifest = try BackupManifest(
            entries: [
                .symlink("d/link", target: "../x"), .file("d/f.txt", size: 3, mode: 0o640, sha256: String(repeating: "0", count: 64)),
                .directory("d"),
            ], archive: .init(sha256: String(repeating: "f", count: 64), byteCount: 99))
        let json = String(decoding: try manifest.canonicalJSON(), as: UTF8.self)
        let zeros = String(repeating: "0", count: 64)
        let effs = String(repeating: "f", count: 64)
        #expect(
            json == #"{"archive":{"bytes":99,"sha256":"\#(effs)"},"entries":["#
                + #"{"kind":"directory","mode":493,"path":"d","size":0},"#
                + #"{"kind":"file","mode":416,"path":"d/f.txt","sha256":"\#(zeros)","size":3},"#
                + #"{"kind":"symlink","link_target":"../x","mode":511,"path":"d/link","size":0}"#
                + #"],"format_version":1}"#)
    }

    enum Change: String, CaseIterable, Sendable {
        case deleteFile, addFile, growFile, rewriteFileSameLength, fileBecomesDirectory, directoryBecomesFIFO
        case relinkSymlink, symlinkBecomesFile, directoryBecomesSymlinkToCopy, nonUTF8NameAdded
    }

    static func expected(for change: Change) -> [ManifestMismatch] {
        switch change {
        case .deleteFile: [.missing(path: "assets/app.js", expected: .file)]
        case .addFile: [.extra(path: "a/b/new.txt")]
        case .growFile: [.changedSize(path: "index.html", expected: 5, found: 6)]
        case .rewriteFileSameLength:
            [.changedHash(path: "index.html", expected: sha256(Data("hello".utf8)), found: sha256(Data("jello".utf8)))]
        case .fileBecomesDirectory: [.changedKind(path: "empty", expected: .file, found: .directory)]
        case .directoryBecomesFIFO: [.changedKind(path: "logs", expected: .directory, found: nil)]
        case .relinkSymlink: [.changedLinkTarget(path: "current", expected: "releases/r1", found: "/etc")]
        case .symlinkBecomesFile: [.changedKind(path: "shortcut", expected: .symlink, found: .file)]
        case .directoryBecomesSymlinkToCopy:
            // Identical content behind a symlink does not count: the link is not followed.
            [.changedKind(path: "assets", expected: .directory, found: .symlink), .missing(path: "assets/app.js", expected: .file)]
        case .nonUTF8NameAdded: [.extra(path: "bad\u{FFFD}name")]
        }
    }

    static func apply(_ change: Change, to root: URL) throws {
        let fm = FileManager.default
        func url(_ path: String) -> URL { root.appendingPathComponent(path) }
        switch change {
        case .deleteFile: try fm.removeItem(at: url("assets/app.js"))
        case .addFile: try Data("new".utf8).write(to: url("a/b/new.txt"))
        case .growFile: try Data("hello!".utf8).write(to: url("index.html"))
        case .rewriteFileSameLength: try Data("jello".utf8).write(to: url("index.html"))
        case .fileBecomesDirectory:
            try fm.removeItem(at: url("empty"))
            try fm.createDirectory(at: url("empty"), withIntermediateDirectories: false)
        case .directoryBecomesFIFO:
            try fm.removeItem(at: url("logs"))
            #expect(mkfifo(url("logs").path, 0o644) == 0)
        case .relinkSymlink:
            try fm.removeItem(at: url("current"))
            try fm.createSymbolicLink(atPath: url("current").path, withDestinationPath: "/etc")
        case .symlinkBecomesFile:
            try fm.removeItem(at: url("shortcut"))
            try Data("assets".utf8).write(to: url("shortcut"))
        case .directoryBecomesSymlinkToCopy:
            let copy = root.deletingLastPathComponent().appendingPathComponent(root.lastPathComponent + "-assets")
            try fm.moveItem(at: url("assets"), to: copy)
            try fm.createSymbolicLink(atPath: url("assets").path, withDestinationPath: copy.path)
        case .nonUTF8NameAdded:
            var name = Array(url("bad").path.utf8) + [0xFF] + Array("name".utf8) + [0]
            let fd = name.withUnsafeMutableBufferPointer { buffer in
                buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) {
                    open($0, O_CREAT | O_WRONLY | O_CLOEXEC, 0o644)
                }
            }
            #expect(fd >= 0)
            close(fd)
        }
    }

    @Test("verify reports each kind of difference, and only it", arguments: Change.allCases)
    func mismatches(change: Change) throws {
        try Self.withTree { root in
            let manifest = try BackupManifest.build(from: root)
            try Self.apply(change, to: root)
            defer {
                let copy = root.deletingLastPathComponent().appendingPathComponent(root.lastPathComponent + "-assets")
                try? FileManager.default.removeItem(at: copy)
            }
            let found = try manifest.verify(extractedTree: root)
            #expect(found == Self.expected(for: change))
            #expect(found.allSatisfy { !$0.description.isEmpty })
        }
    }

    @Test(
        "paths that are absolute, empty or leave the tree are refused",
        arguments: ["../etc/passwd", "a/../../b", "a/..", "/etc/passwd", "", "a//b", "./a", "a/.", "a/", "a\u{0}b", "..", "."])
    func unsafePaths(path: String) throws {
        #expect { try BackupManifest(entries: [.file(path, size: 0, sha256: String(repeating: "0", count: 64))]) } throws: {
            ($0 as? CHOMError)?.code == .refused
        }
        // The same path arriving in a manifest document is refused at parsing; a safe one in the same document is not.
        func document(_ path: String) -> Data {
            let escaped = path.replacingOccurrences(of: "\u{0}", with: "\\u0000")
            let zeros = String(repeating: "0", count: 64)
            return Data(
                (#"{"entries":[{"kind":"file","mode":420,"path":"\#(escaped)","sha256":"\#(zeros)","size":0}],"#
                    + #""format_version":1}"#).utf8)
        }
        #expect { try BackupManifest(json: document(path)) } throws: { ($0 as? CHOMError)?.code == .refused }
        #expect(try BackupManifest(json: document("ok")).entries.map(\.path) == ["ok"])
    }

    @Test(
        "inconsistent manifests are refused",
        arguments: [
            [Entry.file("x", size: 1, sha256: "XYZ")],  // not a hex digest
            [.file("x", size: 1, sha256: String(repeating: "A", count: 64))],  // uppercase
            [.directory("d"), .directory("d")],  // repeated
            [.symlink("link", target: "/etc"), .file("link/passwd", size: 0, sha256: String(repeating: "0", count: 64))],
            [.file("orphan/child", size: 0, sha256: String(repeating: "0", count: 64))],  // parent not listed
            [Entry(path: "d", kind: .directory, size: 4096, mode: 0o755)],
            [Entry(path: "s", kind: .symlink, mode: 0o777)],  // no target
            [Entry(path: "f", kind: .file, mode: 0o10644, sha256: String(repeating: "0", count: 64))],
        ])
    func inconsistent(entries: [Entry]) {
        #expect(throws: CHOMError.self) { try BackupManifest(entries: entries) }
    }

    @Test("NFC and NFD spellings of one name are two entries, as they are two files on disk")
    func unicodeNormalisation() throws {
        let nfc = "caf\u{E9}"
        let nfd = "cafe\u{301}"
        #expect(nfc == nfd)  // Swift's String equality would merge them; the manifest must not.
        let manifest = try BackupManifest(entries: [.directory(nfc), .directory(nfd)])
        #expect(manifest.entries.count == 2)
    }

    @Test("an unknown format version and malformed JSON are refused")
    func badDocuments() {
        for document in [#"{"entries":[],"format_version":2}"#, #"{"entries":[]}"#, "not json", #"{"entries":{},"format_version":1}"#] {
            #expect(throws: CHOMError.self) { try BackupManifest(json: Data(document.utf8)) }
        }
    }

    @Test("building refuses a FIFO and a name that is not UTF-8")
    func buildRefusals() throws {
        try Self.withTree { root in
            #expect(mkfifo(root.appendingPathComponent("pipe").path, 0o644) == 0)
            #expect { try BackupManifest.build(from: root) } throws: { ($0 as? CHOMError)?.code == .refused }
        }
        try Self.withTree { root in
            try Self.apply(.nonUTF8NameAdded, to: root)
            #expect { try BackupManifest.build(from: root) } throws: { ($0 as? CHOMError)?.code == .refused }
        }
    }

    @Test("an archive's digest is streamed from the file, and never read through a symlink")
    func archiveDigest() throws {
        try Self.withTree { root in
            let archive = root.appendingPathComponent("a/large.bin")
            let digest = try BackupManifest.Archive(digestingFileAt: archive)
            #expect(digest == .init(sha256: Self.sha256(Self.largeContent), byteCount: UInt64(Self.largeContent.count)))
            let link = root.appendingPathComponent("link.bin")
            try FileManager.default.createSymbolicLink(atPath: link.path, withDestinationPath: archive.path)
            #expect(throws: CHOMError.self) { try BackupManifest.Archive(digestingFileAt: link) }
        }
    }
}
