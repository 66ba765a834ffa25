/// A site's suspension as a set of reasons (`SuspensionReason`: manual, billing, fencing), so that
/// lifting one never resumes a site another still holds. `suspended` stays: it says what the agent
/// applied (set when a suspend task succeeds), while the reasons say what is wanted (set when the
/// request is made). Sites suspended before reasons existed were suspended by an administrator.
enum Migration0011SuspensionReasons {
    static let migration = Migration(version: 11, name: "suspension_reasons", sql: """
        ALTER TABLE sites ADD COLUMN suspension_reasons text[] NOT NULL DEFAULT '{}'
            CHECK (suspension_reasons <@ ARRAY['manual', 'billing', 'fencing']::text[]);
        UPDATE sites SET suspension_reasons = '{manual}' WHERE suspended;
        """)
}
