/// One member of a tar archive as `TarReader` reports it, after GNU long-name and PAX records
/// have been applied.
package struct TarEntry: Sendable, Equatable {
    package enum Kind: Sendable, Equatable, CustomStringConvertible {
        case file
        case directory
        case symlink
        case hardLink
        case characterDevice
        case blockDevice
        case fifo
        /// Any other type flag (e.g. GNU sparse 'S', volume label 'V').
        case other(UInt8)

        init(typeFlag: UInt8) {
            switch typeFlag {
            case UInt8(ascii: "0"), 0, UInt8(ascii: "7"): self = .file
            case UInt8(ascii: "1"): self = .hardLink
            case UInt8(ascii: "2"): self = .symlink
            case UInt8(ascii: "3"): self = .characterDevice
            case UInt8(ascii: "4"): self = .blockDevice
            case UInt8(ascii: "5"): self = .directory
            case UInt8(ascii: "6"): self = .fifo
            default: self = .other(typeFlag)
            }
        }

        var typeFlag: UInt8 {
            switch self {
            case .file: UInt8(ascii: "0")
            case .hardLink: UInt8(ascii: "1")
            case .symlink: UInt8(ascii: "2")
            case .characterDevice: UInt8(ascii: "3")
            case .blockDevice: UInt8(ascii: "4")
            case .directory: UInt8(ascii: "5")
            case .fifo: UInt8(ascii: "6")
            case .other(let flag): flag
            }
        }

        package var description: String {
            switch self {
            case .file: "regular file"
            case .directory: "directory"
            case .symlink: "symlink"
            case .hardLink: "hard link"
            case .characterDevice: "character device"
            case .blockDevice: "block device"
            case .fifo: "fifo"
            case .other(let flag):
                (0x21...0x7E).contains(flag) ? "'\(Character(Unicode.Scalar(flag)))'" : "0x\(String(flag, radix: 16))"
            }
        }
    }

    package var kind: Kind
    /// The member's path as stored (e.g. "./site/index.html" or "dir/"); not yet validated.
    package var path: String
    /// The link target for symlinks and hard links, otherwise empty.
    package var linkPath: String
    /// Permission bits (including any setuid/setgid/sticky bits as stored).
    package var mode: UInt32
    /// Bytes of content that follow the header.
    package var size: Int
    /// Modification time in seconds since the epoch.
    package var modificationTime: Int

    package init(kind: Kind, path: String, linkPath: String = "", mode: UInt32, size: Int, modificationTime: Int = 0) {
        self.kind = kind
        self.path = path
        self.linkPath = linkPath
        self.mode = mode
        self.size = size
        self.modificationTime = modificationTime
    }
}
