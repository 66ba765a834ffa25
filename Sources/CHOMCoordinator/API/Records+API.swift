import CHOMAPI
import CHOMAudit
import CHOMCore
import CHOMProtocol
import Foundation
import CHOMStore

extension JoinTokenRecord {
    var api: JoinTokenResponse {
        JoinTokenResponse(
            id: id.description, description: description, maxUses: maxUses, uses: uses, expiresAt: expiresAt,
            createdAt: createdAt, revokedAt: revokedAt)
    }
}

extension AgentRecord {
    var api: AgentResponse {
        var response = AgentResponse(
            id: id.description, name: name, state: state.rawValue, version: agentVersion, hostname: hostFacts.hostname,
            cpuCount: hostFacts.cpuCount, memoryTotalBytes: hostFacts.memoryTotalBytes,
            diskFreeBytes: hostFacts.diskFreeBytes, load1: hostFacts.load1, maxSites: maxSites, sites: placedSites,
            lastHeartbeatAt: lastHeartbeatAt, enrolledAt: enrolledAt, certificateNotAfter: certificateNotAfter)
        response.scheduling = scheduling
        response.health = health
        response.labels = labels
        response.publicAddresses = publicAddresses
        response.siteKinds = (SiteKindCapability.kinds(in: capabilities) ?? Set(SiteSettings.Kind.allCases))
            .map(\.rawValue).sorted()
        return response
    }
}

extension SiteMigrationRecord {
    func api(domain: String? = nil) -> MigrationResponse {
        var response = MigrationResponse(
            id: id.description, siteId: siteID.description, domain: domain, fromAgentId: fromAgent.description,
            toAgentId: toAgent.description, reason: reason, state: state, step: step, failedStep: failedStep,
            message: message, taskId: taskID?.description, backupId: backupID?.description, switchedAt: switchedAt,
            maintenanceSeconds: maintenanceStartedAt.map { (maintenanceEndedAt ?? updatedAt).timeIntervalSince($0) },
            createdAt: createdAt, updatedAt: updatedAt, finishedAt: finishedAt)
        response.recoveryPointSeconds = recoveryPointSeconds
        response.backupVerified = backupVerified
        response.recoveryTimeSeconds = recoveryTimeSeconds
        return response
    }
}

extension ReleaseRecord {
    var api: ReleaseResponse {
        ReleaseResponse(
            id: id.description, siteId: siteID.description, sha256: sha256, sizeBytes: sizeBytes, format: format,
            createdAt: createdAt)
    }
}

extension TaskRecord {
    var api: TaskResponse {
        TaskResponse(
            id: id.description, kind: kind.rawValue, state: state.rawValue, agentId: agentID.description,
            siteId: siteID?.description, releaseId: releaseID?.description, attempts: attempts,
            progressStep: progressStep, progressLog: progressLog, message: resultMessage, releasePath: releasePath,
            createdAt: createdAt, sentAt: sentAt, acceptedAt: acceptedAt, finishedAt: finishedAt,
            backupId: backupID?.description, failedStep: failedStep)
    }
}

extension UserRecord {
    func api(twoFactorEnabled: Bool) -> UserResponse {
        UserResponse(
            id: id.description, email: email, displayName: displayName, isOperator: isOperator,
            twoFactorEnabled: twoFactorEnabled, createdAt: createdAt)
    }
}

extension MembershipRecord {
    var api: MembershipResponse {
        MembershipResponse(
            organizationId: organizationID.description, userId: userID.description, email: email, role: role.rawValue,
            tenantIds: tenantIDs.map(\.description), createdAt: createdAt)
    }
}

extension OrganizationRecord {
    var api: OrganizationResponse { OrganizationResponse(id: id.description, name: name, createdAt: createdAt) }
}

extension TenantRecord {
    var api: TenantResponse {
        TenantResponse(id: id.description, organizationId: organizationID.description, name: name, createdAt: createdAt)
    }
}

extension InvitationRecord {
    var api: InvitationResponse {
        InvitationResponse(
            id: id.description, organizationId: organizationID.description, email: email, role: role.rawValue,
            tenantIds: tenantIDs.map(\.description), createdAt: createdAt, expiresAt: expiresAt, acceptedAt: acceptedAt)
    }
}

extension StoredToken {
    var api: TokenResponse {
        TokenResponse(
            id: id.description, kind: kind, name: name, abilities: abilities, createdAt: createdAt,
            expiresAt: expiresAt, lastUsedAt: lastUsedAt, revokedAt: revokedAt, rotatedAt: rotatedAt)
    }
}

extension StoredAuditEntry {
    var api: AuditEntryResponse {
        AuditEntryResponse(
            sequence: entry.sequence, time: entry.time, actor: entry.actor, organizationId: entry.organizationID,
            tenantId: entry.tenantID, action: entry.action, target: entry.target, requestId: entry.requestID,
            sourceAddress: entry.sourceAddress, details: entry.details, hash: Hex.encode(hash),
            previousHash: Hex.encode(previousHash))
    }
}
