import Foundation

/// Turns the raw bytes of a tar, tar.zst or tar.gz (detected by magic bytes) into tar bytes,
/// bounding the decoded size: a decompressor throws `decompressionBound` past `cap`, a plain tar
/// throws `limitExceeded(.archiveBytes)`.
final class ArchiveDecoder {
    enum Format: Equatable { case tar, zstd, gzip }

    private let format: Format
    private let decompressor: (any StreamDecompressor)?
    private let cap: Int
    private var plainBytes = 0

    static func detect(_ prefix: Data) -> Format {
        let bytes = Array(prefix.prefix(4))
        if bytes == [0x28, 0xB5, 0x2F, 0xFD] { return .zstd }
        if bytes.count >= 2, bytes[0] == 0x1F, bytes[1] == 0x8B { return .gzip }
        return .tar
    }

    init(format: Format, cap: Int) throws {
        self.format = format
        self.cap = cap
        switch format {
        case .tar: decompressor = nil
        case .zstd: decompressor = try ZstdDecompressor(outputCap: cap)
        case .gzip: decompressor = try GzipDecompressor(outputCap: cap)
        }
    }

    func feed(_ chunk: Data, into sink: (Data) throws -> Void) throws {
        if let decompressor {
            try decompressor.decompress(chunk, into: sink)
            return
        }
        guard chunk.count <= cap - plainBytes else {
            throw ArchiveError.limitExceeded(.archiveBytes, max: cap, entry: nil)
        }
        plainBytes += chunk.count
        try sink(chunk)
    }

    func finish() throws {
        try decompressor?.finish()
    }
}
