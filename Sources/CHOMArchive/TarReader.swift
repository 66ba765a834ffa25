package import Foundation

/// A streaming tar parser: feed it bytes in chunks of any size and it reports each entry, its
/// content in chunks, and the entry's end. Parses ustar, GNU long names/link names ('L'/'K') and
/// PAX ('x') records (path, linkpath, size, mtime); PAX global records ('g') are skipped. Header
/// checksums are validated. Memory stays bounded: content is passed through as it arrives and
/// metadata records are limited by `Limits`, whatever the headers claim.
package struct TarReader {
    package struct Limits: Sendable {
        /// The largest single metadata record (long name or PAX) that is buffered.
        package var maxMetadataBytes: Int
        /// How many metadata records may precede one real entry.
        package var maxConsecutiveMetadataRecords: Int
        /// The largest content size an entry may declare.
        package var maxEntrySize: Int

        package init(maxMetadataBytes: Int = 1 << 20, maxConsecutiveMetadataRecords: Int = 8, maxEntrySize: Int = .max) {
            self.maxMetadataBytes = maxMetadataBytes
            self.maxConsecutiveMetadataRecords = maxConsecutiveMetadataRecords
            self.maxEntrySize = maxEntrySize
        }
    }

    package enum Event {
        /// A new entry; its `size` bytes of content follow as `.content` events.
        case entry(TarEntry)
        /// A chunk of the current entry's content: a slice of the fed chunk (its indices need not
        /// start at 0), valid beyond the handler like any `Data`.
        case content(Data)
        /// The current entry is complete.
        case entryEnd
    }

    private enum MetadataKind { case longName, longLink, pax, paxGlobal }

    private enum State {
        case header
        case content(remaining: Int, padding: Int)
        case metadata(MetadataKind, remaining: Int, padding: Int)
        case padding(Int)
        case ended
    }

    package let limits: Limits
    private var state: State = .header
    private var headerBuffer: [UInt8] = []
    private var metadataBuffer: [UInt8] = []
    private var pendingMetadata = 0
    private var longName: [UInt8]?
    private var longLink: [UInt8]?
    private var pax: [String: String] = [:]
    /// True once the end-of-archive marker (a zero block) was read.
    package var reachedEnd: Bool {
        if case .ended = state { return true }
        return false
    }

    package init(limits: Limits = Limits()) {
        self.limits = limits
        headerBuffer.reserveCapacity(TarHeader.blockSize)
    }

    /// Parses `chunk`, calling `handler` for each event. Bytes after the end-of-archive marker are
    /// ignored.
    package mutating func feed(_ chunk: Data, _ handler: (Event) throws -> Void) throws {
        var input = chunk[...]
        while !input.isEmpty {
            switch state {
            case .ended:
                return
            case .header:
                let take = min(TarHeader.blockSize - headerBuffer.count, input.count)
                headerBuffer.append(contentsOf: input.prefix(take))
                input = input.dropFirst(take)
                if headerBuffer.count == TarHeader.blockSize {
                    let block = headerBuffer
                    headerBuffer.removeAll(keepingCapacity: true)
                    try processHeader(block, handler)
                }
            case .content(let remaining, let padding):
                let take = min(remaining, input.count)
                try handler(.content(input.prefix(take)))  // a slice of `chunk`, not a copy
                input = input.dropFirst(take)
                if take == remaining {
                    try handler(.entryEnd)
                    state = padding > 0 ? .padding(padding) : .header
                } else {
                    state = .content(remaining: remaining - take, padding: padding)
                }
            case .metadata(let kind, let remaining, let padding):
                let take = min(remaining, input.count)
                metadataBuffer.append(contentsOf: input.prefix(take))
                input = input.dropFirst(take)
                if take == remaining {
                    try finishMetadata(kind)
                    state = padding > 0 ? .padding(padding) : .header
                } else {
                    state = .metadata(kind, remaining: remaining - take, padding: padding)
                }
            case .padding(let remaining):
                let take = min(remaining, input.count)
                input = input.dropFirst(take)
                state = take == remaining ? .header : .padding(remaining - take)
            }
        }
    }

    /// Throws unless the archive ended with its end-of-archive marker.
    package func finish() throws {
        switch state {
        case .ended: return
        case .header where headerBuffer.isEmpty:
            throw ArchiveError.corrupt(format: "tar", reason: "archive ends without an end-of-archive marker")
        default:
            throw ArchiveError.corrupt(format: "tar", reason: "archive is truncated")
        }
    }

    /// Reads a whole in-memory archive into entries with their content (for small archives and tests).
    package static func entries(in data: Data, limits: Limits = Limits()) throws -> [(entry: TarEntry, content: Data)] {
        var reader = TarReader(limits: limits)
        var result: [(entry: TarEntry, content: Data)] = []
        try reader.feed(data) { event in
            switch event {
            case .entry(let entry): result.append((entry, Data()))
            case .content(let chunk): result[result.count - 1].content.append(chunk)
            case .entryEnd: break
            }
        }
        try reader.finish()
        return result
    }

    // MARK: - Headers

    private mutating func processHeader(_ block: [UInt8], _ handler: (Event) throws -> Void) throws {
        if TarHeader.isZeroBlock(block) {
            state = .ended
            return
        }
        let fields = try TarHeader.decode(block)
        var size = fields.size
        let padding = { (size: Int) in (TarHeader.blockSize - size % TarHeader.blockSize) % TarHeader.blockSize }

        let metadataKind: MetadataKind? =
            switch fields.typeFlag {
            case UInt8(ascii: "L"): .longName
            case UInt8(ascii: "K"): .longLink
            case UInt8(ascii: "x"): .pax
            case UInt8(ascii: "g"): .paxGlobal
            default: nil
            }
        if let metadataKind {
            pendingMetadata += 1
            guard pendingMetadata <= limits.maxConsecutiveMetadataRecords else {
                throw ArchiveError.limitExceeded(.metadataRecords, max: limits.maxConsecutiveMetadataRecords, entry: nil)
            }
            guard size <= limits.maxMetadataBytes else {
                throw ArchiveError.limitExceeded(.metadataBytes, max: limits.maxMetadataBytes, entry: nil)
            }
            metadataBuffer.removeAll(keepingCapacity: true)
            if size == 0 {
                try finishMetadata(metadataKind)
            } else {
                state = .metadata(metadataKind, remaining: size, padding: padding(size))
            }
            return
        }

        var nameBytes = longName ?? fields.name
        var linkBytes = longLink ?? fields.linkName
        var mtime = fields.mtime
        if let path = pax["path"], !path.isEmpty { nameBytes = Array(path.utf8) }
        if let link = pax["linkpath"], !link.isEmpty { linkBytes = Array(link.utf8) }
        if let text = pax["size"] {
            guard let value = Int(text), value >= 0 else {
                throw ArchiveError.corrupt(format: "tar", reason: "PAX size is not a non-negative integer")
            }
            size = value
        }
        if let text = pax["mtime"] {
            let seconds = text.split(separator: ".", maxSplits: 1).first.map(String.init) ?? ""
            mtime = Int(seconds) ?? mtime
        }
        longName = nil
        longLink = nil
        pax = [:]
        pendingMetadata = 0

        guard let path = String(validating: nameBytes, as: UTF8.self),
            let linkPath = String(validating: linkBytes, as: UTF8.self)
        else {
            throw ArchiveError.corrupt(format: "tar", reason: "entry name is not valid UTF-8")
        }
        var kind = TarEntry.Kind(typeFlag: fields.typeFlag)
        // Pre-POSIX archives mark directories by a trailing slash on a regular entry.
        if kind == .file, fields.typeFlag != UInt8(ascii: "7"), path.hasSuffix("/") { kind = .directory }
        guard size <= limits.maxEntrySize else {
            throw ArchiveError.limitExceeded(.entrySize, max: limits.maxEntrySize, entry: path)
        }
        let entry = TarEntry(
            kind: kind, path: path, linkPath: linkPath, mode: fields.mode, size: size, modificationTime: mtime)
        try handler(.entry(entry))
        if size == 0 {
            try handler(.entryEnd)
        } else {
            state = .content(remaining: size, padding: padding(size))
        }
    }

    private mutating func finishMetadata(_ kind: MetadataKind) throws {
        let bytes = metadataBuffer
        metadataBuffer.removeAll(keepingCapacity: false)
        switch kind {
        case .longName: longName = Array(bytes.prefix { $0 != 0 })
        case .longLink: longLink = Array(bytes.prefix { $0 != 0 })
        case .pax: pax.merge(try PaxRecords.decode(bytes)) { _, new in new }
        case .paxGlobal: _ = try PaxRecords.decode(bytes)
        }
    }
}
