package import Foundation

/// One directory of a site to back up and where it goes in the archive, e.g.
/// `("files/current", releaseDirectory)` or `("files/shared", sharedDirectory)`. The directory
/// itself may be a symlink (a `current -> releases/…` link); nothing below it is followed.
package struct BackupSource: Sendable, Equatable {
    /// A relative `/`-separated path (see `BackupLayout` for the names it may not use).
    package var prefix: String
    package var directory: URL
    /// When set, every regular file must be owned by this uid (the site user's): a file of
    /// anyone else's (a hard link planted to it) fails the backup instead of being read.
    package var owner: UInt32?

    package init(prefix: String, directory: URL, owner: UInt32? = nil) {
        self.prefix = prefix
        self.directory = directory
        self.owner = owner
    }
}

/// A database dump file to put in the backup, archived as `BackupLayout.databaseDumpPath`.
package struct BackupDatabaseDump: Sendable, Equatable {
    /// The engine that wrote the dump and must read it back.
    package enum Kind: String, Sendable, Codable, CaseIterable {
        case postgresql
        case mysql
    }

    package var kind: Kind
    package var file: URL

    package init(kind: Kind, file: URL) {
        self.kind = kind
        self.file = file
    }
}
