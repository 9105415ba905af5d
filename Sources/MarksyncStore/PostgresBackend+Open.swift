import Foundation
import Logging
import MarksyncCore
import MarksyncMigrations
import NIOCore
import PostgresNIO

/// A `postgres://user[:password]@host[:port]/database[?sslmode=disable]` URL (or `postgresql://`), parsed.
///
/// Accepted query parameters: `sslmode` (`disable`, `allow` or `prefer`: this build speaks plain TCP),
/// `host` (a folder holding the server's unix socket, as libpq takes it), `application_name`,
/// `connect_timeout` (seconds). The user defaults to `$PGUSER`, then `$USER`; the password to
/// `$PGPASSWORD`; the database to the user's name; the port to 5432.
struct PostgresURL: Sendable {
    /// The URL without its password (for messages).
    var location: String
    var connectionConfiguration: PostgresConnection.Configuration
    var clientConfiguration: PostgresClient.Configuration

    init(parsing url: String) throws(StoreError) {
        let shown = Self.redacted(url)
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
            scheme == "postgres" || scheme == "postgresql"
        else {
            throw StoreError(.cannotOpen, "\(shown) is not a PostgreSQL URL: write postgres://user[:password]@host[:port]/database")
        }
        let environment = ProcessInfo.processInfo.environment
        var host = components.host ?? ""
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        let port = components.port ?? 5432
        let user = components.user.flatMap { $0.isEmpty ? nil : $0 } ?? environment["PGUSER"] ?? environment["USER"] ?? "postgres"
        let password = components.password ?? environment["PGPASSWORD"]
        var database = components.path
        while database.hasPrefix("/") { database.removeFirst() }
        if database.isEmpty { database = user }
        var socketFolder: String?
        var applicationName = "marksync-log"
        var timeout = 10
        for item in components.queryItems ?? [] {
            let value = item.value ?? ""
            switch item.name {
            case "sslmode":
                guard ["disable", "allow", "prefer"].contains(value) else {
                    throw StoreError(
                        .cannotOpen,
                        "\(shown): sslmode=\(value) needs TLS, which this marksync-log does not speak to PostgreSQL; "
                            + "use sslmode=disable over a trusted network or a unix socket (?host=/path/to/socket/folder)")
                }
            case "host":
                if value.hasPrefix("/") { socketFolder = value } else if !value.isEmpty { host = value }
            case "application_name":
                applicationName = value
            case "connect_timeout":
                guard let seconds = Int(value), seconds > 0 else {
                    throw StoreError(.cannotOpen, "\(shown): connect_timeout must be a number of seconds, not \(value.debugDescription)")
                }
                timeout = seconds
            default:
                throw StoreError(
                    .cannotOpen,
                    "\(shown): unknown parameter \(item.name); marksync-log takes sslmode=disable, host, application_name and connect_timeout")
            }
        }
        if host.isEmpty, socketFolder == nil { host = "localhost" }
        let hostShown = host.contains(":") ? "[\(host)]" : host
        let portShown = components.port.map { ":\($0)" } ?? ""
        if let socketFolder {
            location = "\(scheme)://\(user)@\(hostShown)\(portShown)/\(database)?host=\(socketFolder)"
            let path = "\(socketFolder)/.s.PGSQL.\(port)"
            connectionConfiguration = PostgresConnection.Configuration(
                unixSocketPath: path, username: user, password: password, database: database)
            clientConfiguration = PostgresClient.Configuration(unixSocketPath: path, username: user, password: password, database: database)
        } else {
            location = "\(scheme)://\(user)@\(hostShown)\(portShown)/\(database)"
            connectionConfiguration = PostgresConnection.Configuration(
                host: host, port: port, username: user, password: password, database: database, tls: .disable)
            clientConfiguration = PostgresClient.Configuration(
                host: host, port: port, username: user, password: password, database: database, tls: .disable)
        }
        connectionConfiguration.options.connectTimeout = .seconds(Int64(timeout))
        connectionConfiguration.options.additionalStartupParameters = [("application_name", applicationName)]
        clientConfiguration.options.connectTimeout = .seconds(timeout)
        clientConfiguration.options.additionalStartupParameters = [("application_name", applicationName)]
    }

    /// The URL with its password (if any) replaced, for messages about a URL that does not parse.
    static func redacted(_ url: String) -> String {
        guard let schemeEnd = url.range(of: "://"), let at = url[schemeEnd.upperBound...].firstIndex(of: "@") else { return url }
        let credentials = url[schemeEnd.upperBound..<at]
        guard let colon = credentials.firstIndex(of: ":") else { return url }
        return String(url[..<colon]) + ":***" + String(url[at...])
    }
}

extension PostgresBackend {
    /// The advisory lock that serialises migrations ("marksync" in ASCII).
    static let migrationLock: Int64 = 0x6D61_726B_7379_6E63

    /// Applies the migrations the database lacks, in order, in one transaction under an advisory lock;
    /// refuses a database that records a migration this binary does not know.
    static func migrate(_ connection: PostgresConnection, location: String, logger: Logger) async throws(StoreError) {
        do {
            try await connection.rows("BEGIN", logger)
            do {
                try await connection.rows("SELECT pg_advisory_xact_lock(\(migrationLock))", logger)
                try await connection.rows(
                    """
                    CREATE TABLE IF NOT EXISTS schema_migrations (id text COLLATE "C" PRIMARY KEY, applied_ms bigint NOT NULL)
                    """, logger)
                let applied = Set(try await connection.rows("SELECT id FROM schema_migrations", logger).map { try $0.decode(String.self) })
                let known = PostgresMigrations.all.map(\.id)
                let unknown = applied.subtracting(known).sorted()
                if let newest = unknown.last {
                    throw StoreError(
                        .newerFormat,
                        "the log \(location) was written by a newer marksync-log (its schema has \(newest)); "
                            + "this binary knows up to \(known.last ?? "?"). Upgrade marksync-log to open it.")
                }
                let now = Int64((Date().timeIntervalSince1970 * 1000).rounded())
                for migration in PostgresMigrations.all where !applied.contains(migration.id) {
                    for statement in splitSQL(migration.sql) {
                        try await connection.rows(PostgresQuery(unsafeSQL: statement), logger)
                    }
                    try await connection.rows("INSERT INTO schema_migrations(id, applied_ms) VALUES (\(migration.id), \(now))", logger)
                }
                try await connection.rows(
                    """
                    INSERT INTO meta(key, value) VALUES ('log_format', \(String(MarksyncVersion.logFormat))),
                    ('created_by', \("marksync-log \(MarksyncVersion.tool)")) ON CONFLICT (key) DO NOTHING
                    """, logger)
                try await connection.rows("COMMIT", logger)
            } catch {
                _ = try? await connection.rows("ROLLBACK", logger)
                throw error
            }
        } catch let error as StoreError {
            throw error
        } catch {
            let mapped = mapError(error, "preparing the schema", location: location)
            if mapped.code == .cannotOpen { throw mapped }
            throw StoreError(.cannotOpen, "cannot prepare the log \(location): \(mapped.message). Is it a marksync-log database?")
        }
    }

    /// Splits a migration file into statements at the semicolons outside comments, quotes and
    /// dollar-quoted bodies (the extended query protocol runs one statement at a time).
    static func splitSQL(_ sql: String) -> [String] {
        var statements = [String]()
        var current = ""
        var meaningful = false
        let chars = Array(sql)
        var i = 0
        func flush() {
            if meaningful { statements.append(current.trimmingCharacters(in: .whitespacesAndNewlines)) }
            current = ""
            meaningful = false
        }
        while i < chars.count {
            let c = chars[i]
            if c == "-", i + 1 < chars.count, chars[i + 1] == "-" {
                while i < chars.count, chars[i] != "\n" { i += 1 }
                continue
            }
            if c == "/", i + 1 < chars.count, chars[i + 1] == "*" {
                i += 2
                while i + 1 < chars.count, !(chars[i] == "*" && chars[i + 1] == "/") { i += 1 }
                i += 2
                continue
            }
            if c == "'" || c == "\"" {
                current.append(c)
                meaningful = true
                i += 1
                while i < chars.count {
                    current.append(chars[i])
                    if chars[i] == c {
                        if i + 1 < chars.count, chars[i + 1] == c {
                            current.append(chars[i + 1])
                            i += 2
                            continue
                        }
                        i += 1
                        break
                    }
                    i += 1
                }
                continue
            }
            if c == "$" {
                // A dollar quote: $tag$ … $tag$ (tag empty or an identifier).
                var j = i + 1
                while j < chars.count, chars[j].isLetter || chars[j].isNumber || chars[j] == "_" { j += 1 }
                if j < chars.count, chars[j] == "$", !(i + 1 < chars.count && chars[i + 1].isNumber) {
                    let tag = String(chars[i...j])
                    let rest = String(chars[(j + 1)...])
                    if let end = rest.range(of: tag) {
                        let body = rest[..<end.upperBound]
                        current += tag + body
                        meaningful = true
                        i = j + 1 + body.count
                        continue
                    }
                }
            }
            if c == ";" {
                flush()
                i += 1
                continue
            }
            if !c.isWhitespace { meaningful = true }
            current.append(c)
            i += 1
        }
        flush()
        return statements
    }
}

extension PostgresConnection {
    /// Runs a statement to its end and returns its rows.
    @discardableResult
    func rows(_ query: PostgresQuery, _ logger: Logger) async throws -> [PostgresRow] {
        try await self.query(query, logger: logger).collect()
    }
}
