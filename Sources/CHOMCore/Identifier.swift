package import Foundation

/// A typed UUID: `AgentID`, `SiteID`, … cannot be mixed up.
package struct Identifier<Tag>: Hashable, Sendable, Codable, CustomStringConvertible {
    package let uuid: UUID

    package init(_ uuid: UUID = UUID()) { self.uuid = uuid }

    package init?(_ string: String) {
        guard let uuid = UUID(uuidString: string) else { return nil }
        self.uuid = uuid
    }

    /// Lowercase, the form used on the wire, in certificates and in paths.
    package var description: String { uuid.uuidString.lowercased() }

    package init(from decoder: any Decoder) throws {
        let string = try decoder.singleValueContainer().decode(String.self)
        guard let uuid = UUID(uuidString: string) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a UUID"))
        }
        self.uuid = uuid
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

package enum AgentTag {}
package enum SiteTag {}
package enum TaskTag {}
package enum ReleaseTag {}
package enum JoinTokenTag {}
package enum OrganizationTag {}
package enum TenantTag {}
package enum UserTag {}
package enum InvitationTag {}
package enum APITokenTag {}

package typealias AgentID = Identifier<AgentTag>
package typealias SiteID = Identifier<SiteTag>
package typealias TaskID = Identifier<TaskTag>
package typealias ReleaseID = Identifier<ReleaseTag>
package typealias JoinTokenID = Identifier<JoinTokenTag>
package typealias OrganizationID = Identifier<OrganizationTag>
package typealias TenantID = Identifier<TenantTag>
package typealias UserID = Identifier<UserTag>
package typealias InvitationID = Identifier<InvitationTag>
package typealias APITokenID = Identifier<APITokenTag>

package enum BackupTag {}
package typealias BackupID = Identifier<BackupTag>

package enum MigrationTag {}
/// A site migration (one move of a site from one agent to another).
package typealias MigrationID = Identifier<MigrationTag>
