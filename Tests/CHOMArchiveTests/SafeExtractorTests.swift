import CHOMArchive
import Foundation
import Testing

@Suite("SafeExtractor")
struct SafeExtractorTests {
    /// A release-like archive with safe relative symlinks and assorted modes.
    private func releaseArchive() throws -> Data {
        var archive = Data()
        let writer = TarWriter { archive += $0 }
        try writer.appendDirectory(path: "releases/v1", mode: 0o1777, modificationTime: 1_600_000_000)
        try writer.appendFile(path: "releases/v1/index.html", contents: Data("v1".utf8), mode: 0o444, modificationTime: 1_650_000_000)
        try writer.appendFile(path: "releases/v1/setuid-tool", contents: Data("#!/bin/sh\n".utf8), mode: 0o4755)
        try writer.appendFile(path: "releases/v1/secret", contents: Data("s".utf8), mode: 0o600)
        try writer.appendFile(path: "./dot/prefixed.txt", contents: Data("dot".utf8))
        try writer.appendSymlink(path: "current", target: "releases/v1")
        try writer.appendSymlink(path: "releases/v1/root", target: "../..")
        try writer.appendSymlink(path: "deep/a/b/link", target: "../../../releases/./v1/index.html")
        try writer.finish()
        return archive
    }

    @Test("extracts files, directories and in-tree symlinks with masked modes and times")
    func extractsRelease() throws {
        try Sandbox.with { sandbox in
            let summary = try SafeExtractor().extract(data: releaseArchive(), to: sandbox.destination)
            #expect(summary == SafeExtractor.Summary(files: 4, directories: 6, symlinks: 3, totalBytes: 16))
            let dest = sandbox.destination
            func url(_ path: String) -> URL { dest.appendingPathComponent(path) }
            #expect(try Data(contentsOf: url("current/index.html")) == Data("v1".utf8))
            #expect(try Data(contentsOf: url("deep/a/b/link")) == Data("v1".utf8))
            #expect(try Data(contentsOf: url("dot/prefixed.txt")) == Data("dot".utf8))
            #expect(try FileManager.default.destinationOfSymbolicLink(atPath: url("releases/v1/root").path) == "../..")
            #expect(permissions(url("releases/v1")) == 0o755)
            #expect(permissions(url("releases/v1/index.html")) == 0o644)
            #expect(permissions(url("releases/v1/setuid-tool")) == 0o755)
            #expect(permissions(url("releases/v1/secret")) == 0o600)
            let attributes = try FileManager.default.attributesOfItem(atPath: url("releases/v1/index.html").path)
            #expect((attributes[.modificationDate] as? Date)?.timeIntervalSince1970 == 1_650_000_000)
            let directory = try FileManager.default.attributesOfItem(atPath: url("releases/v1").path)
            #expect((directory[.modificationDate] as? Date)?.timeIntervalSince1970 == 1_600_000_000)
            #expect(try sandbox.outsideContents().isEmpty)
        }
    }

    @Test("plain tar, tar.zst and tar.gz, from Data or a file, extract to the same tree", arguments: ["tar", "zst", "gz"], [false, true])
    func formats(format: String, fromFile: Bool) throws {
        try Sandbox.with { sandbox in
            let tar = try releaseArchive()
            let file = sandbox.root.appendingPathComponent("release.tar")
            try tar.write(to: file)
            var input = tar
            switch format {
            case "zst":
                input = try Zstd.compress(tar)
            case "gz":
                try Shell.run("/bin/gzip", ["-k", file.path])
                input = try Data(contentsOf: file.appendingPathExtension("gz"))
            default:
                break
            }
            let extractor = SafeExtractor()
            if fromFile {
                let archive = sandbox.root.appendingPathComponent("input.bin")
                try input.write(to: archive)
                _ = try extractor.extract(archive: archive, to: sandbox.destination)
            } else {
                _ = try extractor.extract(data: input, to: sandbox.destination)
            }
            let reference = sandbox.root.appendingPathComponent("reference")
            _ = try extractor.extract(data: tar, to: reference)
            #expect(try snapshot(sandbox.destination) == snapshot(reference))
            #expect(try snapshot(reference).count == 13)
        }
    }

    @Test("a tree packed with TarZst.pack extracts back to the same tree, as a whole")
    func packAndExtract() throws {
        try Sandbox.with { sandbox in
            let tree = sandbox.root.appendingPathComponent("tree")
            try FileManager.default.createDirectory(at: tree.appendingPathComponent("a/b"), withIntermediateDirectories: true)
            try pseudoRandomData(count: 2 << 20).write(to: tree.appendingPathComponent("a/b/big.bin"))
            try Data("x".utf8).write(to: tree.appendingPathComponent("x.txt"))
            try FileManager.default.createSymbolicLink(atPath: tree.appendingPathComponent("a/x").path, withDestinationPath: "../x.txt")
            let packed = try TarZst.pack(directory: tree)
            let summary = try SafeExtractor().extract(data: packed, to: sandbox.destination)
            #expect(summary == SafeExtractor.Summary(files: 2, directories: 2, symlinks: 1, totalBytes: (2 << 20) + 1))
            #expect(try snapshot(sandbox.destination) == snapshot(tree))
        }
    }

    @Test("a truncated tar.zst is refused as corrupt and the destination removed")
    func truncatedCompressed() throws {
        try Sandbox.with { sandbox in
            let packed = try Zstd.compress(releaseArchive())
            let error = #expect(throws: ArchiveError.self) {
                try SafeExtractor().extract(data: packed.prefix(packed.count - 8), to: sandbox.destination)
            }
            guard case .corrupt = error else { Issue.record("unexpected \(String(describing: error))"); return }
            #expect(!sandbox.exists(sandbox.destination))
        }
    }

    @Test("a plain tar larger than the archive-bytes limit is refused")
    func plainTarArchiveLimit() throws {
        try Sandbox.with { sandbox in
            let limits = SafeExtractor.Limits(maxTotalBytes: 1 << 30, maxEntries: 10, maxArchiveBytes: 64 * 1024)
            let tar = RawTar.archive([RawTar.Entry(name: "big", content: Data(count: 100_000))])
            let error = #expect(throws: ArchiveError.self) {
                try SafeExtractor(limits: limits).extract(data: tar, to: sandbox.destination)
            }
            #expect(error == .limitExceeded(.archiveBytes, max: 64 * 1024, entry: nil))
            #expect(!sandbox.exists(sandbox.destination))
        }
    }
}
