import CHOMArchive
import Foundation
import Testing

/// One malicious archive, what it must be refused with, and where it must not have written.
enum Refusal: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case dotDotEvil, nestedDotDot, absolutePath
    case symlinkClimbingTwice, symlinkToSibling, symlinkAbsoluteTarget, fileThroughEscapingSymlink
    case fileThroughInTreeSymlink, symlinkDotDotAfterName, fileReplacingSymlink
    case hardLink, characterDevice, blockDevice, fifo
    case totalBytes, hugeDeclaredFile, entryCount, pathLength
    case zstdBombAfterEnd, zstdBombInEntry, gzipBomb

    var testDescription: String { rawValue }

    enum Expected {
        case unsafePath(entry: String)
        case unsupported(entry: String)
        case limit(ArchiveError.Limit)
        case decompressionBound
    }

    static let ok = RawTar.Entry.file("ok.txt", "written before the bad entry")

    var limits: SafeExtractor.Limits {
        switch self {
        case .totalBytes, .hugeDeclaredFile: SafeExtractor.Limits(maxTotalBytes: 1 << 20, maxEntries: 100)
        case .entryCount: SafeExtractor.Limits(maxTotalBytes: 1 << 20, maxEntries: 10)
        case .pathLength: SafeExtractor.Limits(maxTotalBytes: 1 << 20, maxEntries: 100, maxPathLength: 200)
        case .zstdBombAfterEnd, .gzipBomb: SafeExtractor.Limits(maxTotalBytes: 1 << 20, maxEntries: 100)
        case .zstdBombInEntry: SafeExtractor.Limits(maxTotalBytes: 1 << 30, maxEntries: 100, maxArchiveBytes: 4 << 20)
        default: .standard
        }
    }

    var expected: Expected {
        switch self {
        case .dotDotEvil: .unsafePath(entry: "../evil")
        case .nestedDotDot: .unsafePath(entry: "a/../../evil")
        case .absolutePath: .unsafePath(entry: "")  // checked by prefix below
        case .symlinkClimbingTwice, .symlinkToSibling, .symlinkAbsoluteTarget: .unsafePath(entry: "link")
        case .fileThroughEscapingSymlink: .unsafePath(entry: "dir")
        case .fileThroughInTreeSymlink: .unsafePath(entry: "alias/pwned")
        case .symlinkDotDotAfterName: .unsafePath(entry: "l2")
        case .fileReplacingSymlink: .unsafePath(entry: "link")
        case .hardLink: .unsupported(entry: "hl")
        case .characterDevice: .unsupported(entry: "tty")
        case .blockDevice: .unsupported(entry: "sda")
        case .fifo: .unsupported(entry: "pipe")
        case .totalBytes, .hugeDeclaredFile: .limit(.totalBytes)
        case .entryCount: .limit(.entries)
        case .pathLength: .limit(.pathLength)
        case .zstdBombAfterEnd, .zstdBombInEntry, .gzipBomb: .decompressionBound
        }
    }

    static func evilAbsolutePath(_ sandbox: Sandbox) -> String { "/tmp/chom-evil-\(sandbox.id)" }

    func archive(in sandbox: Sandbox) throws -> Data {
        typealias E = RawTar.Entry
        let entries: [E]
        switch self {
        case .dotDotEvil: entries = [Self.ok, .file("../evil")]
        case .nestedDotDot: entries = [Self.ok, .directory("a/"), .file("a/../../evil")]
        case .absolutePath: entries = [Self.ok, .file(Self.evilAbsolutePath(sandbox))]
        case .symlinkClimbingTwice: entries = [Self.ok, .symlink("link", to: "../../outside"), .file("link/pwned")]
        case .symlinkToSibling: entries = [Self.ok, .symlink("link", to: "../outside"), .file("link/pwned")]
        case .symlinkAbsoluteTarget: entries = [Self.ok, .symlink("link", to: sandbox.outside.path), .file("link/pwned")]
        case .fileThroughEscapingSymlink: entries = [Self.ok, .symlink("dir", to: "../outside"), .file("dir/pwned")]
        case .fileThroughInTreeSymlink:
            entries = [Self.ok, .directory("real/"), .symlink("alias", to: "real"), .file("alias/pwned")]
        case .symlinkDotDotAfterName:
            entries = [Self.ok, .symlink("l1", to: "."), .symlink("l2", to: "l1/.."), .file("l2/outside/pwned")]
        case .fileReplacingSymlink:
            entries = [Self.ok, .directory("real/"), .symlink("link", to: "real"), .file("link")]
        case .hardLink: entries = [Self.ok, E(name: "hl", type: "1", link: "/etc/passwd")]
        case .characterDevice: entries = [Self.ok, E(name: "tty", type: "3")]
        case .blockDevice: entries = [Self.ok, E(name: "sda", type: "4")]
        case .fifo: entries = [Self.ok, E(name: "pipe", type: "6")]
        case .totalBytes:
            entries = [
                Self.ok, E(name: "first", content: Data(count: 600_000)), E(name: "second", content: Data(count: 600_000)),
            ]
        case .hugeDeclaredFile:
            // Only the header: the extractor must refuse before expecting any content.
            return RawTar.archive([Self.ok]).prefix(1024) + RawTar.header(E(name: "huge", declaredSize: 1 << 30))
        case .entryCount: entries = (0..<11).map { .file("file-\($0)") }
        case .pathLength: entries = [Self.ok] + RawTar.longNamed(.file(String(repeating: "p/", count: 150) + "x"))
        case .zstdBombAfterEnd:
            return try Bombs.streamedZstd(prefix: RawTar.archive([Self.ok]), zeros: 256 << 20)
        case .zstdBombInEntry:
            let header = RawTar.archive([Self.ok]).prefix(1024) + RawTar.header(E(name: "zeros", declaredSize: 256 << 20))
            return try Bombs.streamedZstd(prefix: header, zeros: 256 << 20)
        case .gzipBomb:
            try FileManager.default.createDirectory(at: sandbox.scratch, withIntermediateDirectories: true)
            let file = sandbox.scratch.appendingPathComponent("bomb.tar")
            try (RawTar.archive([Self.ok]) + Data(count: 32 << 20)).write(to: file)
            try Shell.run("/bin/gzip", ["-1", file.path])
            return try Data(contentsOf: file.appendingPathExtension("gz"))
        }
        return RawTar.archive(entries)
    }
}

@Suite("SafeExtractor refusals")
struct SafeExtractorRefusalTests {
    @Test("a malicious archive is refused, nothing lands outside and the destination is removed", arguments: Refusal.allCases)
    func refuses(_ refusal: Refusal) throws {
        try Sandbox.with { sandbox in
            let archive = try refusal.archive(in: sandbox)
            let error = #expect(throws: ArchiveError.self) {
                try SafeExtractor(limits: refusal.limits).extract(data: archive, to: sandbox.destination)
            }
            switch (refusal.expected, error) {
            case (.unsafePath(let expected), .unsafePath(let entry, _)?):
                if refusal == .absolutePath {
                    #expect(entry == Refusal.evilAbsolutePath(sandbox))
                } else {
                    #expect(entry == expected)
                }
            case (.unsupported(let expected), .unsupportedEntry(let entry, _)?):
                #expect(entry == expected)
            case (.limit(let expected), .limitExceeded(let limit, _, _)?):
                #expect(limit == expected)
            case (.decompressionBound, .decompressionBound?):
                break
            default:
                Issue.record("expected \(refusal.expected), got \(String(describing: error))")
            }
            if let error { #expect(!error.description.isEmpty) }
            #expect(try sandbox.outsideContents().isEmpty)
            #expect(try sandbox.strayNames().isEmpty)
            #expect(!sandbox.exists(sandbox.destination))
            #expect(!sandbox.exists(URL(fileURLWithPath: Refusal.evilAbsolutePath(sandbox))))
        }
    }

    @Test("the same refusals hold when reading the archive from a file")
    func refusesFromFile() throws {
        try Sandbox.with { sandbox in
            let file = sandbox.root.appendingPathComponent("evil.tar")
            try Refusal.fileThroughEscapingSymlink.archive(in: sandbox).write(to: file)
            #expect(throws: ArchiveError.self) {
                try SafeExtractor().extract(archive: file, to: sandbox.destination)
            }
            #expect(try sandbox.outsideContents().isEmpty)
            #expect(!sandbox.exists(sandbox.destination))
        }
    }

    @Test("a destination that is not empty is refused and left untouched")
    func refusesNonEmptyDestination() throws {
        try Sandbox.with { sandbox in
            try FileManager.default.createDirectory(at: sandbox.destination, withIntermediateDirectories: true)
            let keep = sandbox.destination.appendingPathComponent("keep.txt")
            try Data("keep".utf8).write(to: keep)
            let error = #expect(throws: ArchiveError.self) {
                try SafeExtractor().extract(data: RawTar.archive([.file("a")]), to: sandbox.destination)
            }
            #expect(error == .destinationNotEmpty(path: sandbox.destination.path))
            #expect(try Data(contentsOf: keep) == Data("keep".utf8))
        }
    }

    @Test("an existing empty destination is emptied again after a refusal, not removed")
    func emptiesExistingDestination() throws {
        try Sandbox.with { sandbox in
            try FileManager.default.createDirectory(at: sandbox.destination, withIntermediateDirectories: true)
            #expect(throws: ArchiveError.self) {
                try SafeExtractor().extract(data: Refusal.dotDotEvil.archive(in: sandbox), to: sandbox.destination)
            }
            #expect(try FileManager.default.contentsOfDirectory(atPath: sandbox.destination.path).isEmpty)
        }
    }
}
