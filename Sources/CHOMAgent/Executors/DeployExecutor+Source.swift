import CHOMArchive
import CHOMSiteFiles
import CHOMCore
import CHOMProtocol
import Foundation
import NIOPosix
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

extension DeployExecutor {
    /// Brings the release's files into a new staging directory under `.incoming/`: the verified
    /// artifact extracted safely by root into a directory only root can enter, or a git checkout
    /// made by the site user (git runs as the site user, never as root, on a repository the tenant
    /// chose). Returns the staging directory's name in `.incoming/`.
    func stage(
        _ task: Chom_Agent_V1_DeployTask, site: HostedSite, releaseID: String, layout: SiteLayout, progress: ProgressReporter
    ) async throws -> String {
        let name = releaseID + ".stage-" + UUID().uuidString.lowercased()
        let incoming: SiteDirectory
        do {
            incoming = try layout.openIncoming()
        } catch {
            throw DeployFailure(step: .fetch, reason: "\(error)")
        }
        if task.hasGit {
            do {
                var account: SiteAccount?
                if hosting != nil {
                    guard let found = SiteAccount.lookup(site.user.rawValue) else {
                        throw CHOMError(.notFound, "site user \(site.user) does not exist")
                    }
                    account = found
                }
                let owner = account.map { (uid: $0.uid, gid: $0.gid) }
                let staging = try incoming.makeDirectories(name, mode: 0o700, owner: owner)
                // Root's file in root's .incoming/, readable by the site user's git.
                let configName = name + ".gitconfig"
                try incoming.writeFileAtomically(configName, Array(GitCheckout.siteUserGlobalConfig.utf8), mode: 0o644)
                defer { try? incoming.removeTree(configName) }
                let commit = try await git.checkout(
                    url: task.git.url, ref: task.git.ref, into: layout.incoming.appendingPathComponent(name), as: account,
                    home: layout.home.path, globalConfig: layout.incoming.appendingPathComponent(configName).path)
                try staging.removeTree(".git")
                await progress(DeployFailure.Step.fetch.rawValue, "cloned \(task.git.url) at \(task.git.ref) (commit \(commit))")
            } catch {
                try? incoming.removeTree(name)
                throw DeployFailure(step: .fetch, reason: "\(error)")
            }
            return name
        }
        let partName = releaseID + ".part"
        // Root's own file in root's .incoming/ (0711): no tenant can name or replace it.
        let part = layout.incoming.appendingPathComponent(partName)
        defer { try? incoming.removeTree(partName) }
        let size = try await fetch(task, to: part)
        await progress(DeployFailure.Step.fetch.rawValue, "received \(size) bytes")
        try verify(task, part: part)
        await progress(
            DeployFailure.Step.verify.rawValue,
            "size \(task.artifactSize) and sha256 \(task.artifactSha256.prefix(12))… match")
        let summary = try await extract(part, into: layout.incoming.appendingPathComponent(name))
        await progress(
            DeployFailure.Step.extract.rawValue,
            "\(summary.files) files, \(summary.directories) directories, \(summary.symlinks) symlinks, \(summary.totalBytes) bytes")
        return name
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
        let handle = try FileHandle(forReadingFrom: part)  // not a tenant path: root's file in .incoming/ (root, 0711)
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

    /// Extracts on NIO's blocking thread pool (not the cooperative pool that runs heartbeats).
    private func extract(_ part: URL, into staging: URL) async throws -> SafeExtractor.Summary {
        let extractor = SafeExtractor(
            limits: SafeExtractor.Limits(maxTotalBytes: limits.maxExtractedBytes, maxEntries: limits.maxEntries))
        do {
            return try await NIOThreadPool.singleton.runIfActive {
                try extractor.extract(archive: part, to: staging)  // not a tenant path: new, in .incoming/ (root, 0711)
            }
        } catch {
            try? SiteDirectory.openTrusted(staging.deletingLastPathComponent().path).removeTree(staging.lastPathComponent)
            throw DeployFailure(step: .extract, reason: String(describing: error))
        }
    }
}
