import CZstd
package import Foundation

/// One-shot zstd with a hard output bound. For data of arbitrary size use `ZstdCompressor` and
/// `ZstdDecompressor`.
package enum Zstd {
    /// The largest window a decoder accepts (2^27 = 128 MiB, zstd's own default limit), which bounds
    /// decoder memory whatever a frame header claims.
    static let windowLogMax: Int32 = 27

    /// Compresses `data` into a single frame that records its content size.
    package static func compress(_ data: Data, level: Int32 = 3) throws -> Data {
        let level = clampLevel(level)
        let bound = ZSTD_compressBound(data.count)
        if ZSTD_isError(bound) != 0 { throw ArchiveError.compressionFailed(reason: errorName(bound)) }
        var output = Data(count: bound)
        let written = try output.withUnsafeMutableBytes { out -> Int in
            try withNonNullBytes(data) { src, count in
                let result = ZSTD_compress(out.baseAddress, out.count, src, count, level)
                if ZSTD_isError(result) != 0 { throw ArchiveError.compressionFailed(reason: errorName(result)) }
                return result
            }
        }
        output.count = written
        return output
    }

    /// Decompresses a single zstd frame whose size the caller declares, refusing (without ever
    /// holding more than `declaredSize` bytes of output) when:
    /// - `declaredSize` exceeds `absoluteCap`;
    /// - the frame header records a content size other than `declaredSize`;
    /// - the frame would produce more, or produces fewer, bytes than `declaredSize`;
    /// - the input is not one complete, valid frame, or has trailing bytes after it.
    package static func decompress(_ data: Data, declaredSize: Int, absoluteCap: Int) throws -> Data {
        guard declaredSize >= 0, absoluteCap >= 0 else {
            throw ArchiveError.invalidArgument("declared size and cap must not be negative")
        }
        guard declaredSize <= absoluteCap else {
            throw ArchiveError.decompressionBound(
                reason: "declared size \(declaredSize) exceeds the cap of \(absoluteCap) bytes")
        }
        let headerSize = withNonNullBytes(data) { src, count in ZSTD_getFrameContentSize(src, count) }
        switch headerSize {
        case contentSizeError:
            throw ArchiveError.corrupt(format: "zstd", reason: "not a zstd frame or frame header truncated")
        case contentSizeUnknown:
            break
        default:
            if headerSize != UInt64(declaredSize) {
                let actual = headerSize > UInt64(Int.max) ? Int.max : Int(headerSize)
                throw ArchiveError.sizeMismatch(declared: declaredSize, actual: actual)
            }
        }

        let stream = try DecompressionStream()
        var output = Data(count: declaredSize)
        let produced = try output.withUnsafeMutableBytes { out -> Int in
            try withNonNullBytes(data) { src, count in
                var scratch: UInt8 = 0
                return try withUnsafeMutablePointer(to: &scratch) { scratchPointer in
                    var input = ZSTD_inBuffer(src: src, size: count, pos: 0)
                    var output = ZSTD_outBuffer(
                        dst: out.baseAddress ?? UnsafeMutableRawPointer(scratchPointer), size: declaredSize, pos: 0)
                    while true {
                        let result = try stream.step(&output, &input)
                        if result == 0 { break }  // frame fully decoded and flushed
                        if output.pos == output.size {
                            // Output is full but the frame goes on: one more byte means it is too big.
                            var probe = ZSTD_outBuffer(dst: scratchPointer, size: 1, pos: 0)
                            let probeResult = try stream.step(&probe, &input)
                            if probe.pos > 0 {
                                throw ArchiveError.decompressionBound(
                                    reason: "zstd frame decompresses past its declared size of \(declaredSize) bytes")
                            }
                            if probeResult == 0 { break }
                        }
                        if input.pos == input.size {
                            // Everything buffered was flushed (or probed) and the frame still wants input.
                            throw ArchiveError.corrupt(format: "zstd", reason: "truncated frame")
                        }
                    }
                    if input.pos != input.size {
                        throw ArchiveError.corrupt(
                            format: "zstd", reason: "\(input.size - input.pos) trailing bytes after the frame")
                    }
                    return output.pos
                }
            }
        }
        guard produced == declaredSize else {
            throw ArchiveError.sizeMismatch(declared: declaredSize, actual: produced)
        }
        return output
    }

    // MARK: - Shared helpers

    static let contentSizeUnknown = UInt64.max
    static let contentSizeError = UInt64.max - 1

    static func clampLevel(_ level: Int32) -> Int32 {
        min(max(level, ZSTD_minCLevel()), ZSTD_maxCLevel())
    }

    static func errorName(_ code: Int) -> String {
        guard let name = ZSTD_getErrorName(code) else { return "unknown zstd error" }
        return String(cString: name)
    }

    /// Calls `body` with a non-null pointer to `data`'s bytes (a dummy pointer when it is empty).
    static func withNonNullBytes<R>(
        _ data: Data, _ body: (UnsafeRawPointer, Int) throws -> R
    ) rethrows -> R {
        try data.withUnsafeBytes { raw in
            if let base = raw.baseAddress, raw.count > 0 { return try body(base, raw.count) }
            var byte: UInt8 = 0
            return try withUnsafePointer(to: &byte) { try body(UnsafeRawPointer($0), 0) }
        }
    }
}

/// Owns a ZSTD_DStream with a bounded window; shared by `Zstd.decompress` and `ZstdDecompressor`.
final class DecompressionStream {
    private let stream: OpaquePointer

    init() throws {
        guard let stream = ZSTD_createDStream() else {
            throw ArchiveError.compressionFailed(reason: "cannot allocate a zstd decoder")
        }
        self.stream = stream
        let result = ZSTD_DCtx_setParameter(stream, ZSTD_d_windowLogMax, Zstd.windowLogMax)
        if ZSTD_isError(result) != 0 {
            ZSTD_freeDStream(stream)
            throw ArchiveError.compressionFailed(reason: Zstd.errorName(result))
        }
    }

    deinit { ZSTD_freeDStream(stream) }

    /// One ZSTD_decompressStream call; returns 0 when a frame is complete, throws on a decoding error.
    func step(_ output: inout ZSTD_outBuffer, _ input: inout ZSTD_inBuffer) throws -> Int {
        let result = ZSTD_decompressStream(stream, &output, &input)
        if ZSTD_isError(result) != 0 {
            throw ArchiveError.corrupt(format: "zstd", reason: Zstd.errorName(result))
        }
        return result
    }
}
