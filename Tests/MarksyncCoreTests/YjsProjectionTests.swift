import Foundation
import MarksyncCore
import Testing

/// Random documents for the Yjs projection tests: several authors, non-BMP text (emoji, a skin-tone
/// sequence, a mathematical letter), creates, patches, full replacements, deletes, prose, headers and
/// line endings, each change checked against ``DocumentState`` the way the log checks it.
struct YjsRandomDocument {
    var state = DocumentState()
    var events = [Event]()
    var rng: UInt64
    let authors = ["alice", "bob", "carol", "agent:editor"]
    static let alphabet: [String] = ["a", "b", "c", "x", "y", " ", " ", "\n", "é", "ß", "中", "😀", "🎉", "👍🏽", "𝒳", "{", "}"]

    init(seed: UInt64) { rng = seed }

    mutating func next(_ bound: Int) -> Int {
        rng = rng &+ 0x9E37_79B9_7F4A_7C15
        var z = rng
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return bound <= 1 ? 0 : Int((z ^ (z >> 31)) % UInt64(bound))
    }

    mutating func text(_ maximum: Int) -> String {
        (0..<next(maximum + 1)).map { _ in Self.alphabet[next(Self.alphabet.count)] }.joined()
    }

    /// A random edit of a text: insert, delete or replace, at code point positions.
    mutating func edit(_ old: String) -> String {
        var scalars = Array(old.unicodeScalars)
        let at = next(scalars.count + 1)
        let cut = min(scalars.count - at, next(4) == 0 ? next(12) : next(3))
        let inserted = next(3) == 0 ? "" : text(6)
        scalars.replaceSubrange(at..<(at + cut), with: inserted.unicodeScalars)
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars)
        return String(view)
    }

    /// A random change that applies to the current state.
    mutating func change() -> Change {
        let blocks = state.blocks
        let roll = next(100)
        if blocks.isEmpty || roll < 12 {
            let id = "markpact:file=f\(events.count)_\(next(1000)).py"
            return .create(blockID: id, index: next(blocks.count + 1), header: nil, content: text(20))
        }
        let block = blocks[next(blocks.count)]
        switch roll {
        case 12..<62:
            var new = block.content
            for _ in 0..<(1 + next(3)) { new = edit(new) }
            let dmp = DiffMatchPatch()
            return .patch(blockID: block.id, patch: dmp.patchToText(dmp.patchMake(block.content, new)), expectedSHA256: nil)
        case 62..<72:
            return .full(blockID: block.id, content: next(3) == 0 ? text(30) : edit(edit(block.content)))
        case 72..<78:
            return .delete(blockID: block.id)
        case 78..<88:
            let index = next(state.prose.count)
            return .event(.proseEdited(index: index, text: next(4) == 0 ? "" : edit(state.prose[index])))
        case 88..<93:
            var header = block.header
            header.lang = ["python", "text", "bash", "🐍"][next(4)]
            header.openingLine = "```\(header.lang) markpact:\(header.kind) \(header.meta)"
            return .event(.blockHeaderChanged(blockID: block.id, header: header))
        case 93..<96:
            return .event(.lineEndingChanged(state.lineEnding == .lf ? .crlf : .lf))
        default:
            return .event(
                .reviewNote(ReviewNote(blockID: block.id, blockSeq: block.versionSeq, blockSHA256: block.sha256, verdict: "ok", text: "fine")))
        }
    }

    /// Appends one random event (retrying changes the state refuses).
    mutating func step() -> Event {
        while true {
            let change = self.change()
            var copy = state
            if let body = try? copy.prepare(change, seq: state.seq + 1) {
                state = copy
                let event = Event(
                    document: "demo", seq: state.seq, timestampMs: 1_700_000_000_000 + Int64(state.seq) * 1000,
                    author: authors[next(authors.count)], body: body)
                events.append(event)
                return event
            }
        }
    }
}

@Suite struct YjsProjectionTests {
    /// The projection's Yjs roots (and its own texts) say what the log's document state says.
    static func expectConsistent(_ projection: YjsProjection, _ state: DocumentState, _ label: String) {
        #expect(projection.seq == state.seq)
        #expect(projection.blockIDs == state.blocks.map(\.id), "\(label): block ids")
        #expect(projection.prose == state.prose, "\(label): prose")
        for block in state.blocks { #expect(projection.content(of: block.id) == block.content, "\(label): text of \(block.id)") }
        let snapshot = projection.yjs.snapshot
        #expect(snapshot.order == state.blocks.map(\.id), "\(label): order")
        #expect(snapshot.blocks == Dictionary(uniqueKeysWithValues: state.blocks.map { ($0.id, $0.content) }), "\(label): blocks")
        var gaps = [String: String]()
        for (index, text) in state.prose.enumerated() { gaps[index == 0 ? "" : state.blocks[index - 1].id] = text }
        for (key, text) in snapshot.prose { #expect(gaps[key] == text, "\(label): prose \(key)") }
        for (key, text) in gaps where snapshot.prose[key] == nil { #expect(text.isEmpty, "\(label): prose gap \(key) has no Y.Text") }
        for block in state.blocks {
            #expect(snapshot.headers[block.id]?["open"] == .string(block.header.openingLine), "\(label): header of \(block.id)")
        }
        #expect(Set(snapshot.headers.keys) == Set(state.blocks.map(\.id)), "\(label): header keys")
        #expect(snapshot.meta["line_ending"].map { $0 == .string("crlf") } ?? false == (state.lineEnding == .crlf), "\(label): line ending")
    }

    @Test(arguments: [1, 2, 3])
    func randomStreamsStayConsistent(seed: Int) throws {
        var random = YjsRandomDocument(seed: UInt64(seed))
        var projection = YjsProjection(document: "demo")
        var stateVectorClock = 0
        for n in 0..<1500 {
            let event = random.step()
            let update = try projection.apply(event)
            let parsed = try YjsUpdate(decoding: update)
            // One client group at most, the author's, continuing its clock.
            #expect(Set(parsed.structs.map(\.client)).count <= 1)
            if let first = parsed.structs.first {
                #expect(first.client == UInt64(projection.authors.first { $0.author == event.author }!.client))
            }
            let total = projection.stateVector.clocks.values.reduce(0, +)
            #expect(total >= stateVectorClock)
            stateVectorClock = total
            if n % 25 == 0 || n > 1490 { Self.expectConsistent(projection, random.state, "seed \(seed) event \(n + 1)") }
        }
        #expect(projection.seq == 1500)
        #expect(projection.yjs.snapshot.meta["format"] == .string(YjsProjection.format))
        #expect(projection.yjs.snapshot.meta["project"] == .string("demo"))
        #expect(projection.yjs.snapshot.meta["created"]?.numberValue == 1_700_000_001)
    }

    @Test func sameLogSameBytes() throws {
        var random = YjsRandomDocument(seed: 7)
        for _ in 0..<800 { _ = random.step() }
        var first = YjsProjection(document: "demo")
        var second = YjsProjection(document: "demo")
        var updates = [[UInt8]]()
        for event in random.events { updates.append(try first.apply(event)) }
        for (event, update) in zip(random.events, updates) { #expect(try second.apply(event) == update) }
        #expect(first.encodeStateAsUpdate() == second.encodeStateAsUpdate())
        #expect(first.encodeCheckpoint() == second.encodeCheckpoint())
    }

    @Test func checkpointRestoresTheSameProjection() throws {
        var random = YjsRandomDocument(seed: 11)
        for _ in 0..<1200 { _ = random.step() }
        var straight = YjsProjection(document: "demo")
        var restored: YjsProjection?
        var afterRestore = [[UInt8]]()
        var straightAfter = [[UInt8]]()
        for event in random.events {
            let update = try straight.apply(event)
            if event.seq > 600 { straightAfter.append(update) }
            if event.seq == 600 {
                restored = try YjsProjection(document: "demo", checkpoint: straight.encodeCheckpoint())
                #expect(restored!.encodeStateAsUpdate() == straight.encodeStateAsUpdate())
                #expect(restored!.blockIDs == straight.blockIDs && restored!.prose == straight.prose && restored!.seq == 600)
                for id in straight.blockIDs { #expect(restored!.content(of: id) == straight.content(of: id)) }
            }
        }
        var copy = try #require(restored)
        for event in random.events where event.seq > 600 { afterRestore.append(try copy.apply(event)) }
        #expect(afterRestore == straightAfter)
        #expect(copy.encodeStateAsUpdate() == straight.encodeStateAsUpdate())
        #expect(copy.authors.map(\.client) == straight.authors.map(\.client))
        // A damaged or mismatched checkpoint is refused, not half-read.
        var bytes = straight.encodeCheckpoint()
        bytes.removeLast(3)
        #expect(throws: YjsError.self) { try YjsProjection(document: "demo", checkpoint: bytes) }
        bytes = straight.encodeCheckpoint()
        bytes[0] = 9
        #expect(throws: YjsError.self) { try YjsProjection(document: "demo", checkpoint: bytes) }
    }

    @Test func clientIDsAreFNVAndCollisionsAreResolvedInOrder() throws {
        #expect(YjsProjection.clientID(for: "alice") == 2_267_157_479)
        // These two names have the same FNV-1a hash; the second author to write gets FNV-1a of "name#1".
        #expect(YjsProjection.clientID(for: "author-422789") == YjsProjection.clientID(for: "author-639192"))
        var projection = YjsProjection(document: "demo")
        var state = DocumentState()
        for (n, author) in ["author-422789", "author-639192", "author-422789"].enumerated() {
            let body = try state.prepare(.full(blockID: "markpact:file=a\(n).txt", content: "x"), seq: n + 1)
            try projection.apply(Event(document: "demo", seq: n + 1, timestampMs: 0, author: author, body: body))
        }
        #expect(projection.authors.map(\.author) == ["author-422789", "author-639192"])
        #expect(projection.authors.map(\.client) == [2_547_241_227, 2_598_211_435])
        #expect(projection.authors.allSatisfy { $0.client < UInt32.max })
    }

    @Test func stateVectorDiffNeverSplitsASurrogatePair() throws {
        var document = YjsDocument()
        document.begin(client: 7)
        document.mapSetText(.blocks, "b", "a😀b")
        document.commit()
        // The text item has clocks 1…4 ("a" 1, "😀" 2–3, "b" 4); a vector ending inside the emoji is moved
        // back to its start.
        let diff = try YjsUpdate(decoding: document.encodeStateAsUpdate(from: YjsStateVector([7: 3])))
        #expect(diff.structs.first?.clock == 2)
        #expect(diff.structs.first?.content == .string("😀b"))
        let clean = try YjsUpdate(decoding: document.encodeStateAsUpdate(from: YjsStateVector([7: 4])))
        #expect(clean.structs.first?.content == .string("b"))
        #expect(try YjsUpdate(decoding: document.encodeStateAsUpdate(from: YjsStateVector([7: 5]))).isEmpty)
    }

    @Test func textPositionsAreCodePointsInsideNonBMPText() throws {
        var document = YjsDocument()
        document.begin(client: 1)
        document.mapSetText(.blocks, "b", "👍🏽𝒳é")
        document.commit()
        document.begin(client: 2)
        document.textInsert(.blocks, "b", at: 1, "!")  // between 👍 and the skin tone: code point 1
        document.textDelete(.blocks, "b", at: 3, count: 1)  // 𝒳
        let update = document.commit()
        #expect(document.text(.blocks, "b") == "👍!🏽é")
        let parsed = try YjsUpdate(decoding: update)
        // The insert's origin is the last UTF-16 unit of 👍 (clock 1 + 1), its right origin the skin tone.
        #expect(parsed.structs.first?.origin?.clock == 2)
        #expect(parsed.structs.first?.rightOrigin?.clock == 3)
        #expect(parsed.deleteSet.first?.ranges.first?.clock == 5)
        #expect(parsed.deleteSet.first?.ranges.first?.length == 2)
    }

    @Test func eventsThatChangeNoTextGiveEmptyUpdates() throws {
        var state = DocumentState()
        var projection = YjsProjection(document: "demo")
        let created = try state.prepare(.full(blockID: "markpact:run", content: "echo hi"), seq: 1)
        try projection.apply(Event(document: "demo", seq: 1, timestampMs: 0, author: "alice", body: created))
        let note = EventBody.reviewNote(ReviewNote(blockID: "markpact:run", blockSeq: 1, blockSHA256: "x", verdict: "ok", text: "ok"))
        #expect(try projection.apply(Event(document: "demo", seq: 2, timestampMs: 0, author: "reviewer", body: note)) == [0, 0])
        #expect(projection.authors.map(\.author) == ["alice"])
        #expect(throws: YjsError.self) {
            try projection.apply(Event(document: "demo", seq: 5, timestampMs: 0, author: "alice", body: note))
        }
        // Events the log could not have stored are refused (a damaged log), before anything changes.
        let before = projection.encodeStateAsUpdate()
        for body in [
            EventBody.blockDeleted(blockID: "markpact:nope"), .blockReplaced(blockID: "markpact:nope", content: "x"),
            .proseEdited(index: 7, text: "x"),
            .blockPatched(blockID: "markpact:run", patch: "@@ -1,4 +1,4 @@\n-zzzz\n+yyyy\n", resultLength: 7, resultSHA256: nil),
        ] {
            #expect(throws: YjsError.self) { try projection.apply(Event(document: "demo", seq: 3, timestampMs: 0, author: "alice", body: body)) }
        }
        #expect(projection.encodeStateAsUpdate() == before)
        #expect(projection.seq == 2)
    }
}

/// One Y.Text edited thousands of times by clients taking turns (few merges: thousands of items in
/// many chunks), against a plain array of code points.
@Suite struct YjsLargeTextTests {
    @Test func thousandsOfEditsInOneText() throws {
        var random = YjsRandomDocument(seed: 99)
        var document = YjsDocument()
        var reference = [UInt32]()
        document.begin(client: 1)
        document.mapSetText(.blocks, "b", "")
        document.commit()
        var restoredAt: YjsDocument?
        for n in 0..<4000 {
            document.begin(client: UInt32(1 + n % 3))
            if reference.isEmpty || random.next(3) > 0 {
                let at = random.next(reference.count + 1)
                let text = YjsRandomDocument.alphabet[random.next(YjsRandomDocument.alphabet.count)] + (random.next(4) == 0 ? "xyz" : "")
                document.textInsert(.blocks, "b", at: at, text)
                reference.insert(contentsOf: text.unicodeScalars.map(\.value), at: at)
            } else {
                let at = random.next(reference.count)
                let count = min(reference.count - at, 1 + random.next(6))
                document.textDelete(.blocks, "b", at: at, count: count)
                reference.removeSubrange(at..<(at + count))
            }
            let update = document.commit()
            #expect(try YjsUpdate(decoding: update).structs.count <= 1)
            if n % 97 == 0 || n == 3999 {
                #expect(document.text(.blocks, "b") == String(String.UnicodeScalarView(reference.map { Unicode.Scalar($0)! })), "edit \(n)")
                #expect(document.textLength(.blocks, "b") == reference.count)
            }
            if n == 2000 { restoredAt = try YjsDocument(checkpoint: document.encodeCheckpoint()) }
        }
        #expect(document.itemCount > 2000)
        let full = try YjsUpdate(decoding: document.encodeStateAsUpdate())
        var next = [UInt64: Int]()
        for item in full.structs {
            #expect(item.clock == next[item.client, default: 0])
            next[item.client] = item.clock + item.length
        }
        // A checkpoint taken in the middle restores a document that goes on the same way.
        var restored = try #require(restoredAt)
        var again = YjsRandomDocument(seed: 99)
        var replay = YjsDocument()
        var text = [UInt32]()
        replay.begin(client: 1)
        replay.mapSetText(.blocks, "b", "")
        replay.commit()
        for n in 0..<4000 {
            let client = UInt32(1 + n % 3)
            let insert = text.isEmpty || again.next(3) > 0
            let at: Int
            var piece = ""
            var count = 0
            if insert {
                at = again.next(text.count + 1)
                piece = YjsRandomDocument.alphabet[again.next(YjsRandomDocument.alphabet.count)] + (again.next(4) == 0 ? "xyz" : "")
                text.insert(contentsOf: piece.unicodeScalars.map(\.value), at: at)
            } else {
                at = again.next(text.count)
                count = min(text.count - at, 1 + again.next(6))
                text.removeSubrange(at..<(at + count))
            }
            if n > 2000 {
                restored.begin(client: client)
                if insert { restored.textInsert(.blocks, "b", at: at, piece) } else { restored.textDelete(.blocks, "b", at: at, count: count) }
                restored.commit()
            }
            replay.begin(client: client)
            if insert { replay.textInsert(.blocks, "b", at: at, piece) } else { replay.textDelete(.blocks, "b", at: at, count: count) }
            replay.commit()
        }
        #expect(restored.encodeStateAsUpdate() == document.encodeStateAsUpdate())
        #expect(replay.encodeStateAsUpdate() == document.encodeStateAsUpdate())
    }
}
