/// The log schema's numbered SQL files, embedded in the binary (no resource bundle at run time).
public enum SQLiteMigrations {
    /// The migrations in the order they are applied: (identifier, SQL).
    public static let all: [(id: String, sql: String)] = [
        ("0001_initial", String(decoding: PackageResources._001_initial_sql, as: UTF8.self)),
        ("0002_document_paths", String(decoding: PackageResources._002_document_paths_sql, as: UTF8.self)),
        ("0003_yjs_checkpoints", String(decoding: PackageResources._003_yjs_checkpoints_sql, as: UTF8.self)),
        ("0004_projections", String(decoding: PackageResources._004_projections_sql, as: UTF8.self)),
        ("0005_consumer_owner", String(decoding: PackageResources._005_consumer_owner_sql, as: UTF8.self)),
    ]
}

/// The PostgreSQL schema's numbered SQL files (migrations/postgres/), embedded in the binary. Each file
/// holds the same tables as the SQLite migrations up to its point, so both backends store identical logs.
public enum PostgresMigrations {
    /// The migrations in the order they are applied: (identifier, SQL).
    public static let all: [(id: String, sql: String)] = [
        ("0001_postgres_initial", String(decoding: PackageResources._001_postgres_initial_sql, as: UTF8.self)),
        ("0002_postgres_projections", String(decoding: PackageResources._002_postgres_projections_sql, as: UTF8.self)),
        ("0005_postgres_consumer_owner", String(decoding: PackageResources._005_postgres_consumer_owner_sql, as: UTF8.self)),
    ]
}
