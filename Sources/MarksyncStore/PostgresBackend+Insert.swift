import Foundation
import Logging
import NIOCore
import PostgresNIO

extension PostgresBackend {
    /// Events per multi-row `INSERT` (11 parameters each; PostgreSQL takes at most 65 535 per statement).
    static let eventsPerStatement = 500

    /// Stores one group commit in one transaction (see ``LogBackend/insert(_:)``): locks the documents'
    /// rows in id order and checks their heads, adds the authors and block keys the rows need, inserts the
    /// events (multi-row statements), checkpoints and heads, and notifies `marksync_commits` — all before
    /// `COMMIT`. A unique key taken meanwhile by another node comes out as ``StoreError/Code/staleHead``.
    func insert(_ batch: InsertBatch) async throws(StoreError) -> InsertResult {
        let logger = self.logger
        return try await transaction("storing \(batch.rows.count) events", retryable: true) { connection in
            try await Self.insert(batch, on: connection, logger: logger)
        }
    }

    func insertLocked<Value: Sendable>(
        docs: [Int64], _ prepare: @Sendable ([Int64: Int]) async throws -> (batch: InsertBatch?, value: Value)
    ) async throws(StoreError) -> (result: InsertResult?, value: Value) {
        let logger = self.logger
        return try await transaction("storing events under the documents' locks", retryable: true) { connection in
            var stored: [Int64: Int] = [:]
            let ids = Array(Set(docs)).sorted()
            if !ids.isEmpty {
                let rows = try await connection.rows("SELECT id, head_seq FROM documents WHERE id = ANY(\(ids)) ORDER BY id FOR UPDATE", logger)
                for row in rows {
                    let (id, seq) = try row.decode((Int64, Int).self)
                    stored[id] = seq
                }
            }
            let prepared = try await prepare(stored)
            guard let batch = prepared.batch else { return (nil, prepared.value) }
            return (try await Self.insert(batch, on: connection, logger: logger), prepared.value)
        }
    }

    static func insert(_ batch: InsertBatch, on connection: PostgresConnection, logger: Logger) async throws -> InsertResult {
        // 1. The per-document serialisation: a row lock on each document, taken in id order (no deadlock
        // between two nodes appending to the same documents), then the heads must be the expected ones.
        let locked = Set(batch.expectedSeqs.keys).union(batch.heads.map(\.id)).sorted()
        if !locked.isEmpty {
            var stored: [Int64: Int] = [:]
            let rows = try await connection.rows(
                "SELECT id, head_seq FROM documents WHERE id = ANY(\(locked)) ORDER BY id FOR UPDATE", logger
            )
            for row in rows {
                let (id, seq) = try row.decode((Int64, Int).self)
                stored[id] = seq
            }
            for (doc, expected) in batch.expectedSeqs.sorted(by: { $0.key < $1.key }) where stored[doc] != expected {
                throw StoreError(
                    .staleHead,
                    "another process appended to document \(doc) (its head is \(stored[doc].map(String.init) ?? "gone"), "
                        + "this process expected \(expected))")
            }
        }

        // 2. Authors this process does not know yet (another node may have created them meanwhile).
        var authorIDs = batch.authors
        var newAuthors: [String: Int64] = [:]
        let missingAuthors = Set(batch.rows.map(\.author)).filter { authorIDs[$0] == nil }.sorted()
        if !missingAuthors.isEmpty {
            let rows = try await connection.rows(
                """
                INSERT INTO authors(name) SELECT * FROM unnest(\(missingAuthors)::text[])
                ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name RETURNING id, name
                """, logger
            )
            for row in rows {
                let (id, name) = try row.decode((Int64, String).self)
                authorIDs[name] = id
                newAuthors[name] = id
            }
        }

        // 3. Block keys: found in the table (another node made them) or the next free key of the document
        // (safe: its row is locked, and only inserts add keys).
        var keys = batch.blockKeys
        var newKeys: [Int64: [String: Int]] = [:]
        var wanted: [Int64: [String]] = [:]
        var seen = Set<String>()
        for row in batch.rows {
            guard let blockID = row.blockID, keys[row.doc]?[blockID] == nil else { continue }
            if seen.insert("\(row.doc)\u{0}\(blockID)").inserted { wanted[row.doc, default: []].append(blockID) }
        }
        for doc in wanted.keys.sorted() {
            let blockIDs = wanted[doc] ?? []
            let found = try await connection.rows(
                "SELECT block_id, key FROM block_keys WHERE doc = \(doc) AND block_id = ANY(\(blockIDs))", logger
            )
            for row in found {
                let (blockID, key) = try row.decode((String, Int).self)
                keys[doc, default: [:]][blockID] = key
                newKeys[doc, default: [:]][blockID] = key
            }
            let rest = blockIDs.filter { keys[doc]?[$0] == nil }
            if rest.isEmpty { continue }
            let top =
                try await connection.rows("SELECT coalesce(max(key), 0) FROM block_keys WHERE doc = \(doc)", logger)
                .first?.decode(Int.self) ?? 0
            let assigned = Array(top + 1...top + rest.count)
            try await connection.rows(
                "INSERT INTO block_keys(doc, key, block_id) SELECT \(doc), * FROM unnest(\(assigned)::bigint[], \(rest)::text[])", logger)
            for (blockID, key) in zip(rest, assigned) {
                keys[doc, default: [:]][blockID] = key
                newKeys[doc, default: [:]][blockID] = key
            }
        }

        // 4. The events, a few hundred rows per statement.
        var start = 0
        while start < batch.rows.count {
            let chunk = batch.rows[start..<min(start + eventsPerStatement, batch.rows.count)]
            var sql = "INSERT INTO events(doc, seq, ts, author, kind, block, base_seq, client_id, codec, payload, hash) VALUES "
            sql.reserveCapacity(sql.utf8.count + chunk.count * 70)
            var binds = PostgresBindings(capacity: chunk.count * 11)
            for (index, row) in chunk.enumerated() {
                guard let author = authorIDs[row.author] else {
                    throw StoreError(.database, "author \(row.author) has no id after it was inserted")
                }
                var block: Int?
                if let blockID = row.blockID {
                    guard let key = keys[row.doc]?[blockID] else {
                        throw StoreError(.database, "block \(blockID) has no key after it was inserted")
                    }
                    block = key
                }
                let p = index * 11
                if index > 0 { sql += "," }
                sql += "($\(p + 1),$\(p + 2),$\(p + 3),$\(p + 4),$\(p + 5),$\(p + 6),$\(p + 7),$\(p + 8),$\(p + 9),$\(p + 10),$\(p + 11))"
                binds.append(row.doc)
                binds.append(row.seq)
                binds.append(row.timestampMs)
                binds.append(author)
                binds.append(Int(row.kind))
                binds.append(block)
                binds.append(row.baseSeq)
                binds.append(row.clientID)
                binds.append(row.codec)
                try binds.append(row.payload)
                try binds.append(row.hash)
            }
            try await connection.rows(PostgresQuery(unsafeSQL: sql, binds: binds), logger)
            start += chunk.count
        }

        // 5. Checkpoints, heads, and the wake-up of every listening node (delivered at COMMIT).
        try await upsertCheckpoints(batch.checkpoints, on: connection, logger: logger)
        if !batch.heads.isEmpty {
            let ids = batch.heads.map(\.id)
            let seqs = batch.heads.map(\.seq)
            let hashes = batch.heads.map { ByteBuffer(bytes: $0.hash) }
            try await connection.rows(
                """
                UPDATE documents d SET head_seq = v.seq, head_hash = v.hash
                FROM unnest(\(ids)::bigint[], \(seqs)::bigint[], \(hashes)::bytea[]) AS v(id, seq, hash) WHERE d.id = v.id
                """, logger)
            let moved = batch.heads.filter { batch.expectedSeqs[$0.id] != $0.seq }
            if !moved.isEmpty {
                try await connection.rows(
                    """
                    SELECT pg_notify(\(commitChannel), v.id::text || ':' || v.seq::text)
                    FROM unnest(\(moved.map(\.id))::bigint[], \(moved.map(\.seq))::bigint[]) AS v(id, seq)
                    """, logger
                )
            }
        }
        return InsertResult(authors: newAuthors, keys: newKeys)
    }
}
