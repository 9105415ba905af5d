import Foundation
import MarksyncCore
import Testing

/// The golden vectors of ../shared/data/yjs-vectors.json (a copy in Fixtures/): lib0 primitives, every
/// scenario's per-event updates byte for byte (Yjs ≥ 13.5.47 delete-set order), state vectors, read-back,
/// and the y-websocket sync messages.
@Suite struct YjsGoldenVectorTests {
    /// The vectors file, parsed (on each use: a parsed JSON tree is not Sendable).
    static var vectors: [String: Any] {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/yjs-vectors.json")
        let data = try! Data(contentsOf: path)
        return try! JSONSerialization.jsonObject(with: data) as! [String: Any]
    }

    static func bytes(_ hex: String) -> [UInt8] {
        var out = [UInt8]()
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            out.append(UInt8(hex[index..<next], radix: 16)!)
            index = next
        }
        return out
    }

    static func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    static var primitives: [String: Any] { vectors["lib0_primitives"] as! [String: Any] }
    static var scenarios: [[String: Any]] { vectors["scenarios"] as! [[String: Any]] }

    @Test func varUintVectors() throws {
        let table = Self.primitives["varUint"] as! [String: String]
        #expect(table.count == 10)
        for (number, hex) in table {
            var encoder = Lib0Encoder()
            encoder.varUint(UInt64(number)!)
            #expect(Self.hex(encoder.bytes) == hex, "varUint \(number)")
            var decoder = Lib0Decoder(Self.bytes(hex))
            #expect(try decoder.varUint() == UInt64(number)!)
        }
    }

    @Test func varIntVectors() throws {
        let table = Self.primitives["varInt"] as! [String: String]
        #expect(table.count == 9)
        for (number, hex) in table {
            var encoder = Lib0Encoder()
            encoder.varInt(Int64(number)!)
            #expect(Self.hex(encoder.bytes) == hex, "varInt \(number)")
            var decoder = Lib0Decoder(Self.bytes(hex))
            #expect(try decoder.varInt() == Int64(number)!)
        }
    }

    @Test func varStringVectors() throws {
        let table = Self.primitives["varString"] as! [String: String]
        #expect(table.count == 4)
        for (text, hex) in table {
            var encoder = Lib0Encoder()
            encoder.varString(text)
            #expect(Self.hex(encoder.bytes) == hex, "varString \(text)")
            var decoder = Lib0Decoder(Self.bytes(hex))
            #expect(try decoder.varString() == text)
        }
    }

    /// The values the vectors describe in words, as this encoder's values.
    static let anyValues: [String: YjsAny] = [
        "string \"default\"": .string("default"),
        "integer 42": .number(42),
        "integer -7": .number(-7),
        "float32-exact 0.5": .number(0.5),
        "float64 1700000000.5": .number(1_700_000_000.5),
        "integer above 2^31: 2^40 (float32-exact)": .number(1_099_511_627_776),
        "float64 0.1": .number(0.1),
        "true": .bool(true),
        "false": .bool(false),
        "null": .null,
        "undefined": .undefined,
        "array [\"b1\", 2]": .array([.string("b1"), .number(2)]),
        "object {\"a\": 1}": .object(["a": .number(1)]),
        "Uint8Array [1,2]": .bytes([1, 2]),
    ]

    @Test func anyVectors() throws {
        let list = Self.primitives["any"] as! [[String: String]]
        #expect(list.count == Self.anyValues.count)
        for entry in list {
            let value = try #require(Self.anyValues[entry["value"]!], "no value for \(entry["value"]!)")
            var encoder = Lib0Encoder()
            encoder.any(value)
            #expect(Self.hex(encoder.bytes) == entry["hex"]!, "any \(entry["value"]!)")
            var decoder = Lib0Decoder(Self.bytes(entry["hex"]!))
            #expect(try decoder.any() == value)
            #expect(decoder.isAtEnd)
        }
    }

    /// Runs a scenario's ops on a document in one transaction per step.
    static func run(_ step: [String: Any], on document: inout YjsDocument) -> [UInt8] {
        document.begin(client: UInt32(step["client_id"] as! Int))
        for op in step["ops"] as! [[String: Any]] {
            let root = (op["root"] as? String).flatMap { name in YjsRoot.allCases.first { $0.name == name } }
            switch op["op"] as! String {
            case "map_set":
                let value: YjsAny = (op["value"] as? String).map { .string($0) } ?? .number((op["value"] as! NSNumber).doubleValue)
                document.mapSet(root!, op["key"] as! String, value)
            case "order_push": document.arrayPush(.order, [.string(op["id"] as! String)])
            case "block_set": document.mapSetText(.blocks, op["id"] as! String, op["text"] as! String)
            case "text_insert": document.textInsert(.blocks, op["id"] as! String, at: op["cp"] as! Int, op["text"] as! String)
            case "text_delete": document.textDelete(.blocks, op["id"] as! String, at: op["cp"] as! Int, count: op["n"] as! Int)
            case "map_delete": document.mapDelete(root!, op["key"] as! String)
            case "order_delete": document.arrayDelete(.order, at: op["index"] as! Int)
            default: Issue.record("unknown op \(op)")
            }
        }
        return document.commit()
    }

    /// The document's roots against a vector's `{meta, blocks, order}`.
    static func expectState(_ document: YjsDocument, _ expected: [String: Any], _ label: String) {
        let snapshot = document.snapshot
        #expect(snapshot.blocks == expected["blocks"] as! [String: String], "\(label): blocks")
        #expect(snapshot.order == expected["order"] as! [String], "\(label): order")
        let meta = expected["meta"] as! [String: Any]
        #expect(Set(snapshot.meta.keys) == Set(meta.keys), "\(label): meta keys")
        for (key, value) in meta {
            if let text = value as? String {
                #expect(snapshot.meta[key] == .string(text), "\(label): meta \(key)")
            } else {
                #expect(snapshot.meta[key]?.numberValue == (value as! NSNumber).doubleValue, "\(label): meta \(key)")
            }
        }
    }

    static func clocks(_ table: [String: Any]) -> [UInt32: Int] {
        Dictionary(uniqueKeysWithValues: table.map { (UInt32($0.key)!, $0.value as! Int) })
    }

    @Test(arguments: ["empty_roots", "meta_set", "array_push", "block_create", "block_lifecycle"])
    func scenario(_ name: String) throws {
        let scenario = try #require(Self.scenarios.first { $0["name"] as? String == name })
        var document = YjsDocument()
        for (author, id) in scenario["authors"] as! [String: Int] {
            #expect(YjsProjection.clientID(for: author) == UInt32(id), "FNV-1a of \(author)")
        }
        for (n, step) in (scenario["steps"] as! [[String: Any]]).enumerated() {
            let update = Self.run(step, on: &document)
            #expect(Self.hex(update) == step["event_update_yjs_order_hex"] as! String, "\(name) step \(n + 1): event update")
            #expect(document.stateVector.clocks == Self.clocks(step["state_vector_after"] as! [String: Any]), "\(name) step \(n + 1)")
            let decoded = try YjsStateVector(decoding: Self.bytes(step["state_vector_after_hex"] as! String))
            #expect(decoded == document.stateVector)
            Self.expectState(document, step["expected_after"] as! [String: Any], "\(name) step \(n + 1)")
            // Each update parses; its structs continue the client's clock.
            let parsed = try YjsUpdate(decoding: update)
            #expect(parsed.structs.allSatisfy { $0.client == UInt64(step["client_id"] as! Int) })
        }
        Self.expectState(document, scenario["expected_final"] as! [String: Any], "\(name) final")
        #expect(document.stateVector == (try YjsStateVector(decoding: Self.bytes(scenario["state_vector_hex"] as! String))))

        // The full state: no GC, tombstones as ContentDeleted; same delete set as the reference encoder.
        let full = document.encodeStateAsUpdate()
        let reference = scenario["reference_encoder_full_state_hex"] as! String
        let mine = try YjsUpdate(decoding: full)
        let theirs = try YjsUpdate(decoding: Self.bytes(reference))
        #expect(mine.structs.allSatisfy { $0.content != .gc })
        #expect(mine.deleteSet.map(\.client) == theirs.deleteSet.map(\.client))
        #expect(mine.isEmpty == theirs.isEmpty)
        for (a, b) in zip(mine.deleteSet, theirs.deleteSet) {
            #expect(a.ranges.map(\.clock) == b.ranges.map(\.clock) && a.ranges.map(\.length) == b.ranges.map(\.length))
        }
        // Every client's structs cover its clocks from 0 without gaps.
        var next = [UInt64: Int]()
        for item in mine.structs {
            #expect(item.clock == next[item.client, default: 0])
            next[item.client] = item.clock + item.length
        }
        #expect(next.mapValues { $0 } == document.stateVector.clocks.reduce(into: [UInt64: Int]()) { $0[UInt64($1.key)] = $1.value })
        if name != "block_lifecycle" {
            // Without merges the reference encoder's bytes are this encoder's bytes.
            #expect(Self.hex(full) == reference)
        }
    }

    @Test func lifecycleFullStateMergesLikeYjs() throws {
        // After the lifecycle, Yjs merges alice's "😀" and "!" tombstones (clocks 8…10) and "llo" with " ":
        // the full state has fewer structs than the reference encoder (which never merges).
        let scenario = try #require(Self.scenarios.first { $0["name"] as? String == "block_lifecycle" })
        var document = YjsDocument()
        for step in scenario["steps"] as! [[String: Any]] { _ = Self.run(step, on: &document) }
        let mine = try YjsUpdate(decoding: document.encodeStateAsUpdate())
        let theirs = try YjsUpdate(decoding: Self.bytes(scenario["reference_encoder_full_state_hex"] as! String))
        #expect(mine.structs.count < theirs.structs.count)
        let alice = mine.structs.filter { $0.client == 2_267_157_479 && $0.content == .deleted }
        #expect(alice.contains { $0.clock == 8 && $0.length == 3 })
        #expect(alice.contains { $0.clock == 4 && $0.length == 4 })
    }

    @Test func syncMessages() throws {
        let sync = Self.vectors["sync"] as! [String: Any]
        var document = YjsDocument()
        document.begin(client: 2_267_157_479)
        document.arrayPush(.order, [.string("b1")])
        document.mapSetText(.blocks, "b1", "hi")
        let update = document.commit()
        #expect(Self.hex(YjsSyncMessage.syncStep1(document.stateVector.encoded).encoded) == sync["server_sync_step1_hex"] as! String)
        let fresh = try YjsSyncMessage(decoding: Self.bytes(sync["fresh_client_sync_step1_hex"] as! String))
        guard case .syncStep1(let vector) = fresh else {
            Issue.record("not a step 1: \(fresh)")
            return
        }
        let reply = YjsSyncMessage.syncStep2(document.encodeStateAsUpdate(from: try YjsStateVector(decoding: vector)))
        #expect(Self.hex(reply.encoded) == sync["reply_to_fresh_step1_hex"] as! String)
        #expect(Self.hex(YjsSyncMessage.update(update).encoded) == sync["update_message_hex"] as! String)
        let awareness = YjsAwarenessUpdate([.init(client: 2_267_157_479, clock: 1, state: #"{"user":{"name":"alice"}}"#)])
        #expect(Self.hex(awareness.encoded) == sync["awareness_update_payload_hex"] as! String)
        #expect(Self.hex(YjsSyncMessage.awareness(awareness.encoded).encoded) == sync["awareness_message_hex"] as! String)
        let yjsReply = try YjsSyncMessage(decoding: Self.bytes(sync["yjs_client_reply_to_server_step1_hex"] as! String))
        guard case .syncStep2(let empty) = yjsReply else {
            Issue.record("not a step 2: \(yjsReply)")
            return
        }
        #expect(try YjsUpdate(decoding: empty).isEmpty)
        #expect(try YjsSyncMessage(decoding: YjsSyncMessage.permissionDenied("read-only").encoded) == .permissionDenied("read-only"))
    }
}
