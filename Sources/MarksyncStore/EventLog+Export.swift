import Foundation
import MarksyncCore

/// The `type`/`format` of an export line.
private struct ExportLineKind: Decodable {
    var type: String?
    var format: String?
}

/// The first line of an export file.
struct ExportHeader: Codable {
    var format = "marksync-log-export"
    var version = 1
    var log_format = MarksyncVersion.logFormat
}

/// A document line of an export file.
struct ExportDocument: Codable {
    var type = "document"
    var name: String
    var created_ms: Int64
}

/// A consumer cursor line of an export file.
struct ExportConsumer: Codable {
    var type = "consumer"
    var doc: String
    var name: String
    var seq: Int
    var updated_ms: Int64
}

/// An event line of an export file: the event record with `type: "event"`.
struct ExportEvent: Codable {
    var type = "event"
    var record: EventRecord

    func encode(to encoder: any Encoder) throws {
        try record.encode(to: encoder)
        var container = encoder.container(keyedBy: TypeKey.self)
        try container.encode(type, forKey: .type)
    }

    init(record: EventRecord) { self.record = record }

    init(from decoder: any Decoder) throws {
        record = try EventRecord(from: decoder)
    }

    enum TypeKey: String, CodingKey { case type }
}

extension EventLog {
    static func exportEncoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    /// Writes the whole log as JSON lines (a header, then per document its line, its events in seq order
    /// and its consumer cursors). The output is deterministic: the same log gives the same bytes.
    public func export(to handle: FileHandle, progress: (@Sendable (Int, Int) -> Void)? = nil) async throws(StoreError) {
        var buffer = [UInt8]()
        buffer.reserveCapacity(1 << 20)
        func write(_ text: String) throws {
            buffer.append(contentsOf: text.utf8)
            if buffer.count >= 1 << 20 {
                try handle.write(contentsOf: buffer)
                buffer.removeAll(keepingCapacity: true)
            }
        }
        defer { try? handle.write(contentsOf: buffer) }
        let encoder = Self.exportEncoder()
        func line(_ value: some Encodable) throws(StoreError) -> String {
            do { return String(decoding: try encoder.encode(value), as: UTF8.self) } catch {
                throw StoreError(.database, "cannot encode the export: \(error)")
            }
        }
        func emit(_ text: String) throws(StoreError) {
            do { try write(text + "\n") } catch { throw StoreError(.database, "cannot write the export: \(error)") }
        }
        try emit(try line(ExportHeader()))
        let documents = try await self.documents()
        let total = documents.reduce(0) { $0 + $1.headSeq }
        var done = 0
        for info in documents {
            try emit(try line(ExportDocument(name: info.name, created_ms: info.createdMs)))
            var after = 0
            while after < info.headSeq {
                let page = try await events(info.name, after: after, limit: Self.pageSize)
                if page.isEmpty { break }
                for event in page { try emit(try line(ExportEvent(record: EventRecord(event)))) }
                after = page.last!.seq
                done += page.count
                progress?(done, total)
            }
            for consumer in try await consumers(document: info.name) {
                try emit(try line(ExportConsumer(doc: info.name, name: consumer.name, seq: consumer.seq, updated_ms: consumer.updatedMs)))
            }
        }
    }

    /// Imports an export file into this (empty) log. Every event is appended as it was recorded, and its
    /// recomputed hash must equal the exported one, so the imported log is identical.
    /// - Returns: the number of events imported.
    public func importLog(lines: some Sequence<Substring>, progress: (@Sendable (Int) -> Void)? = nil) async throws(StoreError) -> Int {
        let decoder = JSONDecoder()
        var batch = [(request: WriteRequest, hash: [UInt8])]()
        var imported = 0
        var lineNumber = 0
        var sawHeader = false
        var pendingConsumers = [ExportConsumer]()

        for text in lines {
            lineNumber += 1
            if text.utf8.first != UInt8(ascii: "{"), text.allSatisfy(\.isWhitespace) { continue }
            let data = Data(text.utf8)
            // Event lines as `export` writes them (sorted keys: `type` last) are parsed once, not twice.
            let kind: ExportLineKind
            if sawHeader, text.hasSuffix(#""type":"event"}"#) {
                kind = ExportLineKind(type: "event", format: nil)
            } else {
                guard let decoded = try? decoder.decode(ExportLineKind.self, from: data) else {
                    throw StoreError(.badImport, "line \(lineNumber) is not a JSON object")
                }
                kind = decoded
            }
            if !sawHeader {
                guard kind.format == "marksync-log-export", let header = try? decoder.decode(ExportHeader.self, from: data) else {
                    throw StoreError(.badImport, "line 1 is not a marksync-log export header")
                }
                guard header.version <= 1, header.log_format <= MarksyncVersion.logFormat else {
                    throw StoreError(.newerFormat, "the export was written by a newer marksync-log (format \(header.version))")
                }
                sawHeader = true
                continue
            }
            do {
                switch kind.type {
                case "document":
                    try await flushImport(&batch, imported: &imported, progress: progress)
                    let document = try decoder.decode(ExportDocument.self, from: data)
                    if try await hasDocument(document.name) {
                        throw StoreError(.documentExists, "document \(document.name) already exists here; import into an empty log")
                    }
                    try await createDocument(document.name)
                    try await setCreated(document.name, createdMs: document.created_ms)
                case "event":
                    guard let json = JSONValue.parse(data) else { throw StoreError(.badImport, "line \(lineNumber) is not a JSON object") }
                    let record: EventRecord
                    do { record = try EventRecord(json: json) } catch { throw StoreError(.badImport, "line \(lineNumber): \(error)") }
                    let event: Event
                    do { event = try record.event() } catch { throw StoreError(.badImport, "line \(lineNumber): \(error)") }
                    var request = WriteRequest(
                        document: event.document, author: event.author, change: .event(event.body), clientMessageID: event.clientMessageID,
                        baseSeq: event.baseSeq, timestampMs: event.timestampMs)
                    request.verbatim = true
                    batch.append((request, event.hash))
                    if batch.count >= 4096 { try await flushImport(&batch, imported: &imported, progress: progress) }
                case "consumer":
                    pendingConsumers.append(try decoder.decode(ExportConsumer.self, from: data))
                default:
                    throw StoreError(.badImport, "line \(lineNumber) has an unknown type \(kind.type ?? "(none)")")
                }
            } catch let error as StoreError {
                throw error
            } catch {
                throw StoreError(.badImport, "line \(lineNumber): \(error)")
            }
        }
        try await flushImport(&batch, imported: &imported, progress: progress)
        for consumer in pendingConsumers {
            try await setCursor(document: consumer.doc, consumer: consumer.name, seq: consumer.seq)
            try await setConsumerTime(consumer.doc, consumer.name, consumer.updated_ms)
        }
        return imported
    }

    private func flushImport(
        _ batch: inout [(request: WriteRequest, hash: [UInt8])], imported: inout Int, progress: (@Sendable (Int) -> Void)?
    ) async throws(StoreError) {
        if batch.isEmpty { return }
        let outcomes = try await append(batch.map(\.request))
        for (index, outcome) in outcomes.enumerated() {
            guard case .appended(let event, _) = outcome else {
                throw StoreError(.badImport, "an event of \(batch[index].request.document) was refused: \(outcome)")
            }
            if !batch[index].hash.isEmpty, batch[index].hash != event.hash {
                throw StoreError(.badImport, "event \(event.seq) of \(event.document) does not hash as exported: the file was altered")
            }
        }
        imported += outcomes.count
        progress?(imported)
        batch.removeAll(keepingCapacity: true)
    }

    private func setCreated(_ name: String, createdMs: Int64) async throws(StoreError) {
        try await backend.setDocumentCreated(name, createdMs: createdMs)
    }

    private func setConsumerTime(_ document: String, _ name: String, _ ms: Int64) async throws(StoreError) {
        let docID = try await loadHead(document).id
        try await backend.setConsumerTime(doc: docID, consumer: name, updatedMs: ms)
    }
}
