import CHOMArchive
import Foundation
import Testing

@Suite("GNU tar interoperability")
struct GNUTarInteropTests {
    static let longPath = "deep/" + String(repeating: "directory-name/", count: 8) + "file-with-a-long-name.txt"

    /// A site-like tree: nested directories, an empty directory, empty/large/executable files,
    /// a 150-character path, a non-ASCII name, and relative symlinks.
    private func makeTree(at root: URL) throws {
        let manager = FileManager.default
        func file(_ path: String, _ data: Data, mode: Int = 0o644) throws {
            let url = root.appendingPathComponent(path)
            try manager.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try data.write(to: url)
            try manager.setAttributes([.posixPermissions: mode], ofItemAtPath: url.path)
        }
        try file("index.html", Data("<!doctype html><h1>CHOM</h1>\n".utf8))
        try file("css/site.css", compressibleData(count: 40_000))
        try file("assets/blob.bin", pseudoRandomData(count: 300_000), mode: 0o640)
        try file("bin/run.sh", Data("#!/bin/sh\necho hi\n".utf8), mode: 0o755)
        try file("empty.txt", Data())
        try file(Self.longPath, Data("long".utf8))
        try file("café/menü.txt", Data("crème brûlée".utf8))
        try manager.createDirectory(at: root.appendingPathComponent("empty-dir"), withIntermediateDirectories: true)
        try manager.createSymbolicLink(atPath: root.appendingPathComponent("latest").path, withDestinationPath: "css/site.css")
        try manager.createSymbolicLink(atPath: root.appendingPathComponent("bin/styles").path, withDestinationPath: "../css")
    }

    @Test("a tree packed by TarZst.pack extracts identically with GNU tar --zstd")
    func packedTreeExtractsWithGNUTar() throws {
        try Sandbox.with { sandbox in
            let tree = sandbox.root.appendingPathComponent("tree")
            try makeTree(at: tree)
            let archive = sandbox.root.appendingPathComponent("site.tar.zst")
            try TarZst.pack(directory: tree).write(to: archive)
            let out = sandbox.root.appendingPathComponent("gnu-out")
            try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
            try Shell.run("/usr/bin/tar", ["--zstd", "-xf", archive.path, "-C", out.path])
            let expected = try snapshot(tree)
            #expect(expected.count == 23)  // 14 directories, 7 files, 2 symlinks
            #expect(try snapshot(out) == expected)
            #expect(permissions(out.appendingPathComponent("assets/blob.bin")) & 0o777 == 0o640)
        }
    }

    @Test(
        "tarballs made by GNU tar extract identically through SafeExtractor",
        arguments: ["gnu", "pax"], ["gz", "zst"])
    func gnuTarballsExtract(format: String, compression: String) throws {
        try Sandbox.with { sandbox in
            let tree = sandbox.root.appendingPathComponent("tree")
            try makeTree(at: tree)
            let archive = sandbox.root.appendingPathComponent("site.tar.\(compression)")
            let compress = compression == "gz" ? ["-z"] : ["-I", "zstd"]
            try Shell.run("/usr/bin/tar", ["--format=\(format)"] + compress + ["-cf", archive.path, "-C", tree.path, "."])
            let summary = try SafeExtractor().extract(archive: archive, to: sandbox.destination)
            #expect(try snapshot(sandbox.destination) == snapshot(tree))
            #expect(summary.files == 7)
            #expect(summary.symlinks == 2)
            #expect(summary.directories == 14)
            #expect(permissions(sandbox.destination.appendingPathComponent("bin/run.sh")) == 0o755)
        }
    }
}
