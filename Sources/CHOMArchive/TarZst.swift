package import Foundation

/// tar.zst packing of a directory tree, used by the `chom` CLI to upload `./public`.
package enum TarZst {
    /// Packs everything under `directory` (names sorted, permission bits kept; see
    /// `TarWriter.appendTree`) as one zstd-compressed tar, handing compressed pieces to `sink`.
    /// Memory stays bounded whatever the tree's size. Pass `modificationTime` to stamp every entry
    /// with the same time, for byte-identical archives of identical trees.
    package static func pack(
        directory: URL, level: Int32 = 3, modificationTime: Int? = nil, to sink: @escaping (Data) throws -> Void
    ) throws {
        let compressor = try ZstdCompressor(level: level)
        let writer = TarWriter { chunk in try compressor.compress(chunk, into: sink) }
        try writer.appendTree(at: directory, modificationTime: modificationTime)
        try writer.finish()
        try compressor.finish(into: sink)
    }

    /// Packs `directory` as tar.zst into memory.
    package static func pack(directory: URL, level: Int32 = 3, modificationTime: Int? = nil) throws -> Data {
        let collector = Collector()
        try pack(directory: directory, level: level, modificationTime: modificationTime) { collector.data.append($0) }
        return collector.data
    }

    private final class Collector {
        var data = Data()
    }
}
