/// Where a reader of a site's log stopped: the log file's identity (device and inode, so a
/// rotation is seen) and the byte offset just after the last complete line it returned.
///
/// The agent hands it out with every read and takes it back to read only what came after
/// (`chom sites logs --follow`). Its text form, `device.inode.offset` in decimal, is what the task
/// row stores; the coordinator never gives it out bare (``SiteLogPosition`` travels inside the
/// coordinator's authenticated follow cursor).
package struct SiteLogPosition: Sendable, Hashable, CustomStringConvertible {
    package var device: UInt64
    package var inode: UInt64
    package var offset: UInt64

    package init(device: UInt64, inode: UInt64, offset: UInt64) {
        self.device = device
        self.inode = inode
        self.offset = offset
    }

    /// The same file as `other`, wherever either stopped.
    package func sameFile(as other: SiteLogPosition) -> Bool {
        device == other.device && inode == other.inode
    }

    package var description: String { "\(device).\(inode).\(offset)" }

    /// Parses `device.inode.offset`: three decimal numbers (no sign, no leading `+`, at most 20
    /// digits each); nil for anything else.
    package init?(_ text: some StringProtocol) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3 else { return nil }
        var numbers: [UInt64] = []
        for part in parts {
            guard (1...20).contains(part.utf8.count),
                part.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
                let number = UInt64(part)
            else { return nil }
            numbers.append(number)
        }
        self.init(device: numbers[0], inode: numbers[1], offset: numbers[2])
    }
}
