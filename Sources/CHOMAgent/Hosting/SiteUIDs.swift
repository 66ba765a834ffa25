package import CHOMCore
package import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Site user ids that are never handed out twice on a VPS. `useradd --system` reuses the lowest
/// free id, so a site created after another was removed could get its uid, and with it whatever
/// the old tenant left outside its tree (in /tmp, /var/tmp, /dev/shm, a mail spool …). Instead the
/// agent gives each new site user the next id of a range of its own and records the next one in a
/// root-owned file of its state directory before useradd runs: an id, once given, is never given
/// again, even after the user is removed or the agent restarts.
///
/// The range (2,100,000,000 up, below 2^31 for software that keeps uids in a signed int) is far
/// above Debian's login and system ids and above the subordinate ids of user namespaces
/// (`SUB_UID_MAX` 600,100,000 by default); archives never store owners (TarWriter writes 0).
package struct SiteUIDs: Sendable {
    package static let defaultRange: ClosedRange<UInt32> = 2_100_000_000...2_146_999_999

    /// The file holding the next id to give (decimal, one line).
    package var file: URL
    package var range: ClosedRange<UInt32>

    package init(file: URL, range: ClosedRange<UInt32> = SiteUIDs.defaultRange) {
        self.file = file
        self.range = range
    }

    /// The id to give next: the recorded one, but never one at or below an id already in use in the
    /// range (a file lost or restored from an old copy cannot make an id come back while its user
    /// exists). Pure.
    package static func next(recorded: UInt32?, inUse: [UInt32], range: ClosedRange<UInt32>) -> UInt32? {
        var candidate = max(recorded ?? range.lowerBound, range.lowerBound)
        if let highest = inUse.filter(range.contains).max(), highest >= candidate {
            guard highest < range.upperBound else { return nil }
            candidate = highest + 1
        }
        return range.contains(candidate) ? candidate : nil
    }

    private static let lock = Mutex<Void>(())

    /// Takes the next id: reads the file, records the id after it (written to a temporary file,
    /// fsynced and renamed over the old one), returns the id. One taker at a time in this process.
    package func take() throws(CHOMError) -> UInt32 {
        try Self.lock.withLock { _ throws(CHOMError) -> UInt32 in
            let text = try? String(contentsOf: file, encoding: .utf8)  // not a tenant path: the agent's state directory
            let recorded = text.flatMap { UInt32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            guard let uid = Self.next(recorded: recorded, inUse: Self.uidsInUse(), range: range) else {
                throw CHOMError(.unavailable, "no site user id is left in \(range.lowerBound)...\(range.upperBound)")
            }
            try AtomicFile.write("\(uid + 1)\n", to: file.path)  // not a tenant path: the agent's state directory
            return uid
        }
    }

    /// Every uid of the password database and every gid of the group database: an id is given
    /// to a user and, the same number, to its group, so one held by either is not free (a group
    /// left without its user would otherwise make every groupadd of that id fail).
    static func uidsInUse() -> [UInt32] {
        var ids: [UInt32] = []
        setpwent()
        while let entry = getpwent() { ids.append(entry.pointee.pw_uid) }
        endpwent()
        setgrent()
        while let entry = getgrent() { ids.append(entry.pointee.gr_gid) }
        endgrent()
        return ids
    }
}
