import CHOMArchive
import Foundation
import Testing

@Suite("TarWriter and TarReader")
struct TarTests {
    static let longPath = "deep/" + String(repeating: "directory-name/", count: 8) + "file-with-a-long-name.txt"
    static let longTarget = "../" + String(repeating: "t", count: 120)

    /// An archive with every kind `TarWriter` writes, including a 150-character path.
    private func sampleArchive() throws -> (archive: Data, content: Data) {
        let content = pseudoRandomData(count: 70_000)
        var archive = Data()
        let writer = TarWriter { archive += $0 }
        try writer.appendDirectory(path: "site", mode: 0o750, modificationTime: 1_700_000_000)
        try writer.appendFile(path: "site/index.html", contents: Data("<h1>hi</h1>".utf8), mode: 0o640)
        try writer.appendFile(path: Self.longPath, contents: content, mode: 0o755)
        try writer.appendFile(path: "site/empty", contents: Data())
        try writer.appendSymlink(path: "site/current", target: "index.html")
        try writer.appendSymlink(path: "site/far", target: Self.longTarget)
        try writer.finish()
        return (archive, content)
    }

    @Test("a 150-character path really is longer than the ustar name field")
    func longPathIsLong() {
        #expect(Self.longPath.utf8.count == 150)
    }

    @Test("TarWriter output reads back through TarReader with kinds, paths, links, modes and content")
    func roundTrip() throws {
        let (archive, content) = try sampleArchive()
        #expect(archive.count % 10240 == 0)
        let entries = try TarReader.entries(in: archive)
        #expect(entries.map(\.entry.path) == ["site/", "site/index.html", Self.longPath, "site/empty", "site/current", "site/far"])
        #expect(entries[0].entry.kind == .directory)
        #expect(entries[0].entry.mode == 0o750)
        #expect(entries[0].entry.modificationTime == 1_700_000_000)
        #expect(entries[1].entry == TarEntry(kind: .file, path: "site/index.html", mode: 0o640, size: 11))
        #expect(entries[1].content == Data("<h1>hi</h1>".utf8))
        #expect(entries[2].entry.kind == .file)
        #expect(entries[2].entry.mode == 0o755)
        #expect(entries[2].content == content)
        #expect(entries[3].entry.size == 0)
        #expect(entries[4].entry.kind == .symlink)
        #expect(entries[4].entry.linkPath == "index.html")
        #expect(entries[5].entry.linkPath == Self.longTarget)
    }

    @Test("TarReader gives the same entries whatever the chunk size", arguments: [1, 7, 511, 512, 513, 65536])
    func chunking(size: Int) throws {
        let (archive, _) = try sampleArchive()
        var reader = TarReader()
        var events: [String] = []
        var content = Data()
        var offset = 0
        while offset < archive.count {
            let end = min(offset + size, archive.count)
            try reader.feed(archive[offset..<end]) { event in
                switch event {
                case .entry(let entry): events.append("entry \(entry.path)")
                case .content(let chunk): content += chunk
                case .entryEnd: events.append("end")
                }
            }
            offset = end
        }
        try reader.finish()
        #expect(reader.reachedEnd)
        #expect(events.count == 12)
        let expected = try TarReader.entries(in: archive).reduce(Data()) { $0 + $1.content }
        #expect(content == expected)
    }

    @Test("TarReader applies GNU long names and PAX path, linkpath and size records")
    func longNameRecords() throws {
        let gnuName = String(repeating: "g", count: 80) + "/" + String(repeating: "n", count: 80)
        var entries = RawTar.longNamed(.file(gnuName, "gnu"))
        entries += RawTar.paxed(
            .symlink("short", to: "short-target"), [("path", "pax/" + String(repeating: "p", count: 200)), ("linkpath", "pax-target")])
        entries += RawTar.paxed(RawTar.Entry(name: "sized", content: Data("12345".utf8), declaredSize: 99), [("size", "5")])
        let read = try TarReader.entries(in: RawTar.archive(entries))
        #expect(read.map(\.entry.path) == [gnuName, "pax/" + String(repeating: "p", count: 200), "sized"])
        #expect(read[0].content == Data("gnu".utf8))
        #expect(read[1].entry.linkPath == "pax-target")
        #expect(read[2].entry.size == 5)
        #expect(read[2].content == Data("12345".utf8))
    }

    @Test("TarReader refuses a header whose checksum does not match")
    func badChecksum() throws {
        var archive = RawTar.archive([.file("a.txt")])
        archive[archive.startIndex + 3] ^= 0x01
        let error = #expect(throws: ArchiveError.self) { try TarReader.entries(in: archive) }
        #expect(error == .corrupt(format: "tar", reason: "header checksum mismatch"))
    }

    @Test("TarReader refuses an archive cut short or missing its end marker", arguments: [700, 1024])
    func truncated(length: Int) throws {
        let archive = RawTar.archive([.file("a.txt", String(repeating: "x", count: 600))], endMarker: false)
        #expect(throws: ArchiveError.self) { try TarReader.entries(in: archive.prefix(length)) }
    }

    @Test("TarReader refuses an oversized metadata record before buffering it")
    func oversizedMetadata() throws {
        let header = RawTar.header(RawTar.Entry(name: "PaxHeaders/x", type: "x", declaredSize: 100 << 20))
        var reader = TarReader()
        let error = #expect(throws: ArchiveError.self) { try reader.feed(header) { _ in } }
        #expect(error == .limitExceeded(.metadataBytes, max: 1 << 20, entry: nil))
    }

    @Test("TarReader refuses an endless chain of metadata records")
    func metadataChain() throws {
        let records = Array(repeating: RawTar.Entry(name: "x", type: "x", content: Data("10 a=bcde\n".utf8)), count: 20)
        let error = #expect(throws: ArchiveError.self) { try TarReader.entries(in: RawTar.archive(records)) }
        #expect(error == .limitExceeded(.metadataRecords, max: 8, entry: nil))
    }

    @Test("TarReader refuses an entry size over its limit")
    func entrySizeLimit() throws {
        let header = RawTar.header(RawTar.Entry(name: "big", declaredSize: 0o77777777777))
        var reader = TarReader(limits: TarReader.Limits(maxEntrySize: 1 << 30))
        let error = #expect(throws: ArchiveError.self) { try reader.feed(header) { _ in } }
        #expect(error == .limitExceeded(.entrySize, max: 1 << 30, entry: "big"))
    }

    @Test("TarWriter refuses unsafe entry paths", arguments: ["", "/etc/passwd", "../up", "a/../../up", "nul-byte"])
    func writerRefuses(path: String) throws {
        let writer = TarWriter { _ in }
        let path = path.replacingOccurrences(of: "nul-byte", with: "nul\u{0}byte")
        let error = #expect(throws: ArchiveError.self) { try writer.appendFile(path: path, contents: Data()) }
        guard case .unsafePath = error else { Issue.record("unexpected \(String(describing: error))"); return }
    }

    @Test("TarWriter refuses streamed content that does not match the declared size", arguments: [3, 5])
    func writerSizeCheck(written: Int) throws {
        let writer = TarWriter { _ in }
        #expect(throws: ArchiveError.self) {
            try writer.appendFile(path: "f", size: 4) { write in try write(Data(count: written)) }
        }
    }

    @Test("TarZst.pack is deterministic for a tree and a fixed time")
    func deterministic() throws {
        try Sandbox.with { sandbox in
            let tree = sandbox.root.appendingPathComponent("tree")
            try FileManager.default.createDirectory(at: tree.appendingPathComponent("b/c"), withIntermediateDirectories: true)
            for name in ["z.txt", "a.txt", "b/c/d.txt", "B.txt"] {
                try Data(name.utf8).write(to: tree.appendingPathComponent(name))
            }
            let first = try TarZst.pack(directory: tree, modificationTime: 0)
            let second = try TarZst.pack(directory: tree, modificationTime: 0)
            #expect(first == second)
            let decompressor = try ZstdDecompressor(outputCap: 1 << 20)
            let tar = try decompressor.decompress(first)
            let paths = try TarReader.entries(in: tar).map(\.entry.path)
            #expect(paths == ["B.txt", "a.txt", "b/", "b/c/", "b/c/d.txt", "z.txt"])
        }
    }
    @Test("TarZst.pack follows a root that is a symlink, but archives symlinks below it as links")
    func symlinkedRoot() throws {
        try Sandbox.with { sandbox in
            let real = sandbox.root.appendingPathComponent("build")
            try FileManager.default.createDirectory(at: real, withIntermediateDirectories: true)
            try Data("page".utf8).write(to: real.appendingPathComponent("index.html"))
            try FileManager.default.createSymbolicLink(
                atPath: real.appendingPathComponent("outside").path, withDestinationPath: sandbox.outside.path)
            let publicLink = sandbox.root.appendingPathComponent("public")
            try FileManager.default.createSymbolicLink(atPath: publicLink.path, withDestinationPath: real.path)
            let tar = try ZstdDecompressor(outputCap: 1 << 20).decompress(TarZst.pack(directory: publicLink))
            let entries = try TarReader.entries(in: tar)
            #expect(entries.map(\.entry.path) == ["index.html", "outside"])
            #expect(entries[1].entry.kind == .symlink)
            #expect(entries[1].entry.linkPath == sandbox.outside.path)
        }
    }
}
