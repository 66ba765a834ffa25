import CHOMAPI
import CHOMCore
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
        AgentResponse(
            id: id.description, name: name, state: state.rawValue, version: agentVersion, hostname: hostFacts.hostname,
            cpuCount: hostFacts.cpuCount, memoryTotalBytes: hostFacts.memoryTotalBytes,
            diskFreeBytes: hostFacts.diskFreeBytes, load1: hostFacts.load1, maxSites: maxSites, sites: placedSites,
            lastHeartbeatAt: lastHeartbeatAt, enrolledAt: enrolledAt, certificateNotAfter: certificateNotAfter)
    }
}

extension SiteRecord {
    var api: SiteResponse {
        SiteResponse(
            id: id.description, domain: domain, agentId: agentID?.description, state: state,
            currentReleaseId: currentReleaseID?.description, currentReleasePath: currentReleasePath,
            createdAt: createdAt, updatedAt: updatedAt)
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
            createdAt: createdAt, sentAt: sentAt, acceptedAt: acceptedAt, finishedAt: finishedAt)
    }
}
