/// Each agent's X25519 public key (raw 32 bytes) that secrets in its tasks are sealed to
/// (Protocol/README.md, "Sealed secrets"). Null for an agent that has not registered one yet:
/// a task carrying a secret waits for it.
enum Migration0006SealingKeys {
    static let migration = Migration(version: 6, name: "sealing_keys", sql: """
        ALTER TABLE agents ADD COLUMN sealing_public_key bytea CHECK (octet_length(sealing_public_key) = 32);
        """)
}
