/// Every failure raised by CHOMArchive. Messages name the archive entry or the limit involved,
/// never file contents.
package enum ArchiveError: Error, CustomStringConvertible, Equatable, Sendable {
    /// A limit that an archive or a stream may not exceed.
    package enum Limit: String, Sendable, Equatable {
        case totalBytes = "total file bytes"
        case entries = "entry count"
        case pathLength = "path length"
        case entrySize = "entry size"
        case archiveBytes = "archive stream bytes"
        case metadataBytes = "metadata record bytes"
        case metadataRecords = "consecutive metadata records"
    }

    /// An entry whose path or link target would land outside the destination, or that would go through
    /// a symlink.
    case unsafePath(entry: String, reason: String)
    /// An entry of a type that is never extracted (hard link, device, fifo, ...).
    case unsupportedEntry(entry: String, type: String)
    /// A limit was exceeded; `entry` names the entry being processed when one is known.
    case limitExceeded(Limit, max: Int, entry: String?)
    /// Compressed input would decompress past its bound (declared size or output cap).
    case decompressionBound(reason: String)
    /// The decompressed size differs from the declared one.
    case sizeMismatch(declared: Int, actual: Int)
    /// The input is not a valid stream of the given format ("zstd", "gzip", "tar").
    case corrupt(format: String, reason: String)
    /// Compression failed inside the codec.
    case compressionFailed(reason: String)
    /// The extraction destination exists and is not an empty directory.
    case destinationNotEmpty(path: String)
    /// A file-system call failed.
    case io(operation: String, path: String, code: Int32)
    /// A caller passed an argument that cannot be honoured (e.g. a negative size).
    case invalidArgument(String)

    package var description: String {
        switch self {
        case .unsafePath(let entry, let reason):
            return "unsafe archive entry \(Self.quote(entry)): \(reason)"
        case .unsupportedEntry(let entry, let type):
            return "archive entry \(Self.quote(entry)) has unsupported type \(type)"
        case .limitExceeded(let limit, let max, let entry):
            let suffix = entry.map { " at entry \(Self.quote($0))" } ?? ""
            return "archive exceeds the \(limit.rawValue) limit of \(max)\(suffix)"
        case .decompressionBound(let reason):
            return "decompression refused: \(reason)"
        case .sizeMismatch(let declared, let actual):
            return "decompressed size \(actual) differs from the declared size \(declared)"
        case .corrupt(let format, let reason):
            return "corrupt \(format) data: \(reason)"
        case .compressionFailed(let reason):
            return "compression failed: \(reason)"
        case .destinationNotEmpty(let path):
            return "extraction destination \(Self.quote(path)) exists and is not an empty directory"
        case .io(let operation, let path, let code):
            return "\(operation) \(Self.quote(path)) failed: \(POSIX.errorMessage(code)) (errno \(code))"
        case .invalidArgument(let message):
            return "invalid argument: \(message)"
        }
    }

    /// Quotes a name for a message: control characters escaped, long names shortened.
    static func quote(_ name: String) -> String {
        var text = ""
        for scalar in name.unicodeScalars {
            if scalar.value < 0x20 || scalar.value == 0x7F {
                text += "\\u{\(String(scalar.value, radix: 16))}"
            } else {
                text.unicodeScalars.append(scalar)
            }
        }
        if text.count > 240 { text = String(text.prefix(240)) + "..." }
        return "\"\(text)\""
    }
}
