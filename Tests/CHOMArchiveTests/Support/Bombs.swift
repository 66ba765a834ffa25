import CHOMArchive
import Foundation

/// Compressed streams that expand enormously, built once and shared by the tests.
enum Bombs {
    static let zeroCount = 256 << 20

    /// 256 MiB of zeros in one zstd frame that records its content size (one-shot API).
    static let zstdWithContentSize: Data = {
        try! Zstd.compress(Data(count: zeroCount), level: 1)
    }()

    /// 256 MiB of zeros in one streamed zstd frame, whose header does not record the size.
    static let zstdStreamed: Data = {
        try! streamedZstd(prefix: Data(), zeros: zeroCount)
    }()

    /// `prefix` followed by `zeros` zero bytes, compressed with `ZstdCompressor` 1 MiB at a time.
    static func streamedZstd(prefix: Data, zeros: Int) throws -> Data {
        let compressor = try ZstdCompressor(level: 1)
        var output = try compressor.compress(prefix)
        let chunk = Data(count: 1 << 20)
        var remaining = zeros
        while remaining > 0 {
            let take = min(remaining, chunk.count)
            output += try compressor.compress(chunk.prefix(take))
            remaining -= take
        }
        output += try compressor.finish()
        return output
    }
}
