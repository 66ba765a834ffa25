#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
package import CHOMCore

/// The site directory's gate for the site user: a POSIX access ACL, read and written through the
/// directory's descriptor (never a path).
extension SiteDirectory {
    /// Sets this directory's access ACL to its owner's, group's and others' mode bits plus one
    /// named-user entry (`user:<uid>:<permissions>`), written with `fsetxattr` on the descriptor
    /// (`system.posix_acl_access`, the kernel's ACL format version 2). `permissions` is 0–7.
    package func grantUser(_ uid: UInt32, permissions: UInt16, owner: UInt16, group: UInt16, other: UInt16) throws(CHOMError) {
        // Entries sorted by tag: USER_OBJ 0x01, USER 0x02, GROUP_OBJ 0x04, MASK 0x10, OTHER 0x20.
        let undefinedID = UInt32.max
        let entries: [(tag: UInt16, perm: UInt16, id: UInt32)] = [
            (0x01, owner, undefinedID), (0x02, permissions, uid), (0x04, group, undefinedID),
            (0x10, permissions | group, undefinedID), (0x20, other, undefinedID),
        ]
        var bytes: [UInt8] = []
        func append<T: FixedWidthInteger>(_ value: T) { withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) } }
        append(UInt32(2))
        for entry in entries {
            append(entry.tag)
            append(entry.perm)
            append(entry.id)
        }
        guard let setxattr = XAttr.set else { throw CHOMError(.unavailable, "this C library has no fsetxattr") }
        let result = bytes.withUnsafeBytes { setxattr(descriptor, "system.posix_acl_access", $0.baseAddress, $0.count, 0) }
        guard result == 0 else { throw SiteFileError.posix(errno, "set ACL on", path) }
    }

    /// The uids named in this directory's access ACL (`user:<uid>` entries).
    package func aclUsers() -> [UInt32] {
        var buffer = [UInt8](repeating: 0, count: 1024)
        guard let getxattr = XAttr.get else { return [] }
        let count = buffer.withUnsafeMutableBytes { getxattr(descriptor, "system.posix_acl_access", $0.baseAddress, $0.count) }
        guard count >= 4 else { return [] }
        var users: [UInt32] = []
        var offset = 4
        while offset + 8 <= count {
            let tag = UInt16(buffer[offset]) | UInt16(buffer[offset + 1]) << 8
            let id = (0..<4).reduce(UInt32(0)) { $0 | UInt32(buffer[offset + 4 + $1]) << (8 * $1) }
            if tag == 0x02 { users.append(id) }
            offset += 8
        }
        return users
    }
}

/// `fsetxattr`/`fgetxattr` (glibc, `<sys/xattr.h>`), which the Glibc module does not export.
enum XAttr {
    typealias Set = @convention(c) (Int32, UnsafePointer<CChar>, UnsafeRawPointer?, Int, Int32) -> Int32
    typealias Get = @convention(c) (Int32, UnsafePointer<CChar>, UnsafeMutableRawPointer?, Int) -> Int
    static let set: Set? = symbol("fsetxattr")
    static let get: Get? = symbol("fgetxattr")

    private static func symbol<T>(_ name: String) -> T? {
        guard let pointer = dlsym(UnsafeMutableRawPointer(bitPattern: 0), name) else { return nil }
        return unsafeBitCast(pointer, to: T.self)
    }
}
