import MarksyncCore
import PostgresNIO

extension PostgresBackend {
    func historyEvents(doc: Int64, _ query: HistoryQuery) async throws(StoreError) -> [RawEvent] {
        // Unset filters become bounds that hold for every row, so the statement stays one prepared shape.
        let block = query.block ?? -1
        let author = query.author ?? -1
        let kinds = query.kinds ?? Array(0...255)
        let since = query.sinceMs ?? Int64.min
        let until = query.untilMs ?? Int64.max
        let limit = max(0, query.limit)
        let sql: PostgresQuery =
            query.newestFirst
            ? """
            SELECT seq, ts, author, kind, block, base_seq, client_id, codec, payload, hash FROM events
            WHERE doc = \(doc) AND seq > \(query.after) AND seq <= \(query.through)
              AND (\(block) < 0 OR block = \(block)) AND (\(author) < 0 OR author = \(author))
              AND kind = ANY(\(kinds)) AND ts >= \(since) AND ts <= \(until)
            ORDER BY seq DESC LIMIT \(limit)
            """
            : """
            SELECT seq, ts, author, kind, block, base_seq, client_id, codec, payload, hash FROM events
            WHERE doc = \(doc) AND seq > \(query.after) AND seq <= \(query.through)
              AND (\(block) < 0 OR block = \(block)) AND (\(author) < 0 OR author = \(author))
              AND kind = ANY(\(kinds)) AND ts >= \(since) AND ts <= \(until)
            ORDER BY seq LIMIT \(limit)
            """
        return try await fetch(sql, "reading the history") { row in
            let (seq, ts, author, kind, block, baseSeq, clientID, codec, payload, hash) = try row.decode(
                (Int, Int64, Int64, Int, Int?, Int?, String?, Int, ByteBuffer, ByteBuffer).self)
            return RawEvent(
                seq: seq, timestampMs: ts, author: author, kind: kind, block: block, baseSeq: baseSeq, clientID: clientID, codec: codec,
                payload: payload.bytes, hash: hash.bytes)
        }
    }

    func seq(doc: Int64, atOrBeforeMs ms: Int64) async throws(StoreError) -> Int {
        let rows = try await fetch("SELECT coalesce(max(seq), 0) FROM events WHERE doc = \(doc) AND ts <= \(ms)", "finding a seq by time") { row in
            try row.decode(Int.self)
        }
        return rows.first ?? 0
    }
}
