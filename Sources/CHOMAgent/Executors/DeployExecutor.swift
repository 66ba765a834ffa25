import CHOMArchive
package import CHOMCore
package import CHOMProtocol
package import Foundation
package import Logging
import NIOPosix
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Deploys a release: fetch → verify → extract → switch → prune.
///
/// The artifact streams into `.incoming/<release>.part`, hashed as it arrives and cut off past
/// the signed size; size and SHA-256 must equal the signed task's. `SafeExtractor` unpacks it
/// into a staging directory that is renamed to `releases/<release id>` only when complete, then
/// `current` is switched atomically. Until the switch nothing a visitor sees has changed: a failed
/// deploy leaves the previous `current` untouched.
package struct DeployExecutor: Sendable {
    package var sitesRoot: URL
    package var defaultKeepReleases: Int
    package var limits: AgentConfiguration.Deploy
    package var artifacts: any ArtifactSource
    package var metrics: AgentMetrics?
    package var clock: any WallClock
    package var logger: Logger

    package init(
        sitesRoot: URL, defaultKeepReleases: Int = 5, limits: AgentConfiguration.Deploy = .init(),
        artifacts: any ArtifactSource, metrics: AgentMetrics? = nil, clock: any WallClock, logger: Logger
    ) {
        self.sitesRoot = sitesRoot
        self.defaultKeepReleases = defaultKeepReleases
        self.limits = limits
        self.artifacts = artifacts
        self.metrics = metrics
        self.clock = clock
        self.logger = logger
    }

    package func execute(_ task: Chom_Agent_V1_DeployTask, progress: ProgressReporter) async -> ExecutionResult {
        let releaseID: String
        do {
            releaseID = try validate(task)
        } catch {
            return ExecutionResult(outcome: .refused, message: error.description)
        }
        var logger = self.logger
        logger[metadataKey: LogKey.siteID] = "\(task.siteID.prefix(64))"
        logger[metadataKey: LogKey.releaseID] = "\(releaseID)"
        let layout = SiteLayout(sitesRoot: sitesRoot, domain: task.domain)
        do {
            let path = try await deploy(task, releaseID: releaseID, layout: layout, progress: progress)
            metrics?.deployed(site: task.domain, at: clock.now())
            logger.info("release deployed")
            return ExecutionResult(
                outcome: .succeeded, message: "release \(releaseID) is live on \(task.domain)", releasePath: path)
        } catch let failure as DeployFailure {
            logger.warning("deploy failed", metadata: [LogKey.error: "\(failure)"])
            return ExecutionResult(outcome: .failed, message: failure.description)
        } catch {
            logger.warning("deploy failed", metadata: [LogKey.error: "\(error)"])
            return ExecutionResult(outcome: .failed, message: "deploy failed: \(error)")
        }
    }

    private func deploy(
        _ task: Chom_Agent_V1_DeployTask, releaseID: String, layout: SiteLayout, progress: ProgressReporter
    ) async throws -> String {
        do {
            try layout.prepare()
        } catch {
            throw DeployFailure(step: .prepare, reason: "cannot create \(layout.site.path): \(error.localizedDescription)")
        }
        let release = layout.release(releaseID)
        if FileManager.default.fileExists(atPath: release.path) {
            // Only complete extractions are ever renamed into releases/: reuse it.
            await progress(DeployFailure.Step.fetch.rawValue, "release \(releaseID) already on disk; not fetched again")
        } else {
            let part = layout.incoming.appendingPathComponent(releaseID + ".part")
            defer { unlink(part.path) }
            let size = try await fetch(task, to: part)
            await progress(DeployFailure.Step.fetch.rawValue, "received \(size) bytes")
            try verify(task, part: part)
            await progress(DeployFailure.Step.verify.rawValue, "size \(task.artifactSize) and sha256 \(task.artifactSha256.prefix(12))… match")
            let summary = try await extract(part, into: release, staging: layout.incoming)
            await progress(
                DeployFailure.Step.extract.rawValue,
                "\(summary.files) files, \(summary.directories) directories, \(summary.symlinks) symlinks, \(summary.totalBytes) bytes")
        }
        try layout.switchCurrent(to: releaseID)
        await progress(DeployFailure.Step.switch.rawValue, "current -> releases/\(releaseID)")
        let keep = task.keepReleases > 0 ? Int(task.keepReleases) : defaultKeepReleases
        do {
            let removed = try layout.prune(keep: keep)
            await progress(
                DeployFailure.Step.prune.rawValue,
                removed.isEmpty ? "nothing to prune (keep \(keep))" : "removed \(removed.count): \(removed.joined(separator: ", "))")
        } catch {
            // The new release is live; a leftover old release is not worth failing the deploy.
            logger.warning("pruning old releases failed", metadata: [LogKey.error: "\(error)"])
            await progress(DeployFailure.Step.prune.rawValue, "pruning failed: \(error.localizedDescription)")
        }
        return release.standardizedFileURL.path
    }

    /// Checks every field a path or a limit depends on; returns the release id in lowercase.
    private func validate(_ task: Chom_Agent_V1_DeployTask) throws(DeployFailure) -> String {
        guard DomainName.isValid(task.domain) else {
            throw DeployFailure(step: .validate, reason: "domain \"\(task.domain.prefix(64))\" is not a valid lowercase DNS name")
        }
        guard let uuid = UUID(uuidString: task.releaseID) else {
            throw DeployFailure(step: .validate, reason: "release id \"\(task.releaseID.prefix(64))\" is not a UUID")
        }
        let hex = task.artifactSha256
        guard hex.utf8.count == 64, hex.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }) else {
            throw DeployFailure(step: .validate, reason: "artifact_sha256 must be 64 lowercase hex digits")
        }
        guard task.artifactSize > 0, task.artifactSize <= limits.maxArtifactBytes else {
            throw DeployFailure(
                step: .validate, reason: "artifact size \(task.artifactSize) is outside 1…\(limits.maxArtifactBytes) bytes")
        }
        guard task.artifactFormat == .tarZstd || task.artifactFormat == .tarGzip else {
            throw DeployFailure(step: .validate, reason: "artifact format must be tar.zst or tar.gz")
        }
        return uuid.uuidString.lowercased()
    }

    private func fetch(_ task: Chom_Agent_V1_DeployTask, to part: URL) async throws -> UInt64 {
        let sink = try ArtifactSink(path: part.path, limit: task.artifactSize)
        do {
            try await artifacts.fetch(releaseID: task.releaseID, into: sink)
        } catch let failure as DeployFailure {
            throw failure
        } catch {
            throw DeployFailure(step: .fetch, reason: "download of release \(task.releaseID) failed: \(error)")
        }
        let (size, digest) = try sink.finish()
        guard size == task.artifactSize else {
            throw DeployFailure(step: .verify, reason: "received \(size) bytes, the signed task says \(task.artifactSize)")
        }
        guard digest == task.artifactSha256 else {
            throw DeployFailure(step: .verify, reason: "sha256 \(digest) differs from the signed \(task.artifactSha256)")
        }
        return size
    }

    /// The archive's magic bytes must match the declared format.
    private func verify(_ task: Chom_Agent_V1_DeployTask, part: URL) throws {
        let handle = try FileHandle(forReadingFrom: part)
        defer { try? handle.close() }
        let magic = [UInt8](try handle.read(upToCount: 4) ?? Data())
        let zstd: [UInt8] = [0x28, 0xB5, 0x2F, 0xFD]
        switch task.artifactFormat {
        case .tarZstd where magic != zstd:
            throw DeployFailure(step: .verify, reason: "the artifact is not zstd-compressed (declared tar.zst)")
        case .tarGzip where !magic.starts(with: [0x1F, 0x8B]):
            throw DeployFailure(step: .verify, reason: "the artifact is not gzip-compressed (declared tar.gz)")
        default:
            break
        }
    }

    /// Extracts on NIO's blocking thread pool (not the cooperative pool that runs heartbeats)
    /// into a staging directory, renamed into place only once complete.
    private func extract(_ part: URL, into release: URL, staging: URL) async throws -> SafeExtractor.Summary {
        let temporary = staging.appendingPathComponent(release.lastPathComponent + ".extract-" + UUID().uuidString.lowercased())
        let extractor = SafeExtractor(
            limits: SafeExtractor.Limits(maxTotalBytes: limits.maxExtractedBytes, maxEntries: limits.maxEntries))
        let summary: SafeExtractor.Summary
        do {
            summary = try await NIOThreadPool.singleton.runIfActive {
                try extractor.extract(archive: part, to: temporary)
            }
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw DeployFailure(step: .extract, reason: String(describing: error))
        }
        guard chmod(temporary.path, 0o755) == 0, rename(temporary.path, release.path) == 0 else {
            let reason = "cannot move the extracted release to \(release.path): \(String(cString: strerror(errno)))"
            try? FileManager.default.removeItem(at: temporary)
            throw DeployFailure(step: .extract, reason: reason)
        }
        return summary
    }
}
