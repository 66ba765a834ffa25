package import Crypto
package import Foundation

/// The secret fields of a `Task` and their sealed twins (field 40 of their message): a site's TLS
/// private key, a backup key, a bucket's secret access key, a database password.
///
/// The coordinator seals every clear secret to the audience agent before a task is stored as sent
/// (`seal`); the agent opens them after the envelope verified (`open`). Each is bound to its field's
/// path in the task (e.g. `configure.site.tls.private_key_pem`), the task id and the agent id.
package enum TaskSecrets {
    /// True when the task holds a secret in clear.
    package static func hasClearSecret(_ task: Chom_Agent_V1_Task) -> Bool {
        var task = task
        var found = false
        try? walk(&task) { _, clear, _ in if !clear.isEmpty { found = true } }
        return found
    }

    /// True when the task holds a sealed secret.
    package static func hasSealedSecret(_ task: Chom_Agent_V1_Task) -> Bool {
        var task = task
        var found = false
        try? walk(&task) { _, _, sealed in if sealed != nil { found = true } }
        return found
    }

    /// Seals every clear secret of `task` to `recipient` and empties the clear fields.
    package static func seal(
        _ task: inout Chom_Agent_V1_Task, to recipient: Curve25519.KeyAgreement.PublicKey, audience: String
    ) throws {
        let taskID = task.taskID
        try walk(&task) { field, clear, sealed in
            guard !clear.isEmpty else { return }
            sealed = try SecretSealing.seal(clear, to: recipient, taskID: taskID, audience: audience, field: field)
            clear = Data()
        }
    }

    /// Opens every sealed secret of `task` into its clear field. A clear secret (from a coordinator
    /// that does not seal) is left as it is.
    package static func open(
        _ task: inout Chom_Agent_V1_Task, with privateKey: Curve25519.KeyAgreement.PrivateKey?, audience: String
    ) throws(SealedSecretError) {
        let taskID = task.taskID
        do {
            try walk(&task) { field, clear, sealed in
                guard let box = sealed else { return }
                guard let privateKey else { throw SealedSecretError(field: field, reason: "cannot be opened: this agent has no sealing key") }
                clear = try SecretSealing.open(box, with: privateKey, taskID: taskID, audience: audience, field: field)
                sealed = nil
            }
        } catch let error as SealedSecretError {
            throw error
        } catch {
            throw SealedSecretError(field: "task", reason: "cannot be opened")
        }
    }

    typealias Visit = (_ field: String, _ clear: inout Data, _ sealed: inout Chom_Agent_V1_SealedSecret?) throws -> Void

    static func walk(_ task: inout Chom_Agent_V1_Task, _ visit: Visit) throws {
        switch task.kind {
        case .deploy(var deploy):
            if deploy.hasSite { try site(&deploy.site, "deploy.site", visit) }
            task.deploy = deploy
        case .configure(var configure):
            if configure.hasSite { try site(&configure.site, "configure.site", visit) }
            task.configure = configure
        case .rollback(var rollback):
            if rollback.hasSite { try site(&rollback.site, "rollback.site", visit) }
            task.rollback = rollback
        case .suspend(var suspend):
            if suspend.hasSite { try site(&suspend.site, "suspend.site", visit) }
            task.suspend = suspend
        case .backup(var backup):
            try self.backup(&backup, "backup", visit)
            task.backup = backup
        case .restore(var restore):
            if restore.hasSite { try site(&restore.site, "restore.site", visit) }
            if restore.hasSource { try destination(&restore.source, "restore.source", visit) }
            if restore.hasDatabase { try database(&restore.database, "restore.database", visit) }
            let (key, sealed) = try slot(
                restore.encryptionKey, restore.hasSealedEncryptionKey ? restore.sealedEncryptionKey : nil,
                "restore.encryption_key", visit)
            restore.encryptionKey = key
            if let sealed { restore.sealedEncryptionKey = sealed } else { restore.clearSealedEncryptionKey() }
            task.restore = restore
        case .verifyBackup(var verify):
            if verify.hasSite { try site(&verify.site, "verify_backup.site", visit) }
            if verify.hasSource { try destination(&verify.source, "verify_backup.source", visit) }
            let (key, sealed) = try slot(
                verify.encryptionKey, verify.hasSealedEncryptionKey ? verify.sealedEncryptionKey : nil,
                "verify_backup.encryption_key", visit)
            verify.encryptionKey = key
            if let sealed { verify.sealedEncryptionKey = sealed } else { verify.clearSealedEncryptionKey() }
            task.verifyBackup = verify
        case .pruneBackups(var prune):
            if prune.hasSite { try site(&prune.site, "prune_backups.site", visit) }
            if prune.hasDestination { try destination(&prune.destination, "prune_backups.destination", visit) }
            task.pruneBackups = prune
        case .readSiteLogs(var logs):
            if logs.hasSite { try site(&logs.site, "read_site_logs.site", visit) }
            task.readSiteLogs = logs
        case .remove(var remove):
            if remove.hasSite { try site(&remove.site, "remove.site", visit) }
            if remove.hasBackup { try backup(&remove.backup, "remove.backup", visit) }
            task.remove = remove
        case .ping, nil:
            break
        }
    }

    private static func backup(_ backup: inout Chom_Agent_V1_BackupTask, _ path: String, _ visit: Visit) throws {
        if backup.hasSite { try site(&backup.site, path + ".site", visit) }
        if backup.hasDestination { try destination(&backup.destination, path + ".destination", visit) }
        if backup.hasDatabase { try database(&backup.database, path + ".database", visit) }
        let (key, sealed) = try slot(
            backup.encryptionKey, backup.hasSealedEncryptionKey ? backup.sealedEncryptionKey : nil,
            path + ".encryption_key", visit)
        backup.encryptionKey = key
        if let sealed { backup.sealedEncryptionKey = sealed } else { backup.clearSealedEncryptionKey() }
    }

    private static func site(_ site: inout Chom_Agent_V1_SiteConfig, _ path: String, _ visit: Visit) throws {
        guard site.hasTls else { return }
        var tls = site.tls
        let field = path + ".tls.private_key_pem"
        let (clear, sealed) = try slot(Data(tls.privateKeyPem.utf8), tls.hasSealedPrivateKey ? tls.sealedPrivateKey : nil, field, visit)
        tls.privateKeyPem = try text(clear, field)
        if let sealed { tls.sealedPrivateKey = sealed } else { tls.clearSealedPrivateKey() }
        site.tls = tls
    }

    private static func destination(_ destination: inout Chom_Agent_V1_BackupDestination, _ path: String, _ visit: Visit) throws {
        guard case .s3(var s3)? = destination.target else { return }
        let field = path + ".s3.secret_access_key"
        let (clear, sealed) = try slot(
            Data(s3.secretAccessKey.utf8), s3.hasSealedSecretAccessKey ? s3.sealedSecretAccessKey : nil, field, visit)
        s3.secretAccessKey = try text(clear, field)
        if let sealed { s3.sealedSecretAccessKey = sealed } else { s3.clearSealedSecretAccessKey() }
        destination.s3 = s3
    }

    private static func database(_ database: inout Chom_Agent_V1_SiteDatabase, _ path: String, _ visit: Visit) throws {
        let field = path + ".password"
        let (clear, sealed) = try slot(
            Data(database.password.utf8), database.hasSealedPassword ? database.sealedPassword : nil, field, visit)
        database.password = try text(clear, field)
        if let sealed { database.sealedPassword = sealed } else { database.clearSealedPassword() }
    }

    private static func slot(
        _ clear: Data, _ sealed: Chom_Agent_V1_SealedSecret?, _ field: String, _ visit: Visit
    ) throws -> (Data, Chom_Agent_V1_SealedSecret?) {
        var clear = clear
        var sealed = sealed
        try visit(field, &clear, &sealed)
        return (clear, sealed)
    }

    private static func text(_ bytes: Data, _ field: String) throws -> String {
        guard let string = String(data: bytes, encoding: .utf8) else {
            throw SealedSecretError(field: field, reason: "is not UTF-8 text")
        }
        return string
    }
}
