import Foundation
import MarksyncCore
import Testing

/// The client id rule (docs/crdt.md, "Client ids"): FNV-1a of the author's name; an author whose id an
/// earlier author of the document already has gets FNV-1a of `name#1`, `name#2`, … (the first free one).
@Suite struct YjsClientIDTests {
    /// Two names with the same FNV-1a id: the first repeat of a birthday search over `author-0`,
    /// `author-1`, … (ids are 32 bits, so one is expected after about 80,000 names; this one comes at
    /// 639,192). The test below repeats the search.
    static let first = "author-422789"
    static let second = "author-639192"

    /// A projection fed one created block per author, in order; its author table.
    static func authors(_ names: [String]) throws -> [(author: String, client: UInt32)] {
        var projection = YjsProjection(document: "demo")
        var state = DocumentState()
        for (n, author) in names.enumerated() {
            let body = try state.prepare(.full(blockID: "markpact:file=f\(n).txt", content: "x"), seq: n + 1)
            try projection.apply(Event(document: "demo", seq: n + 1, timestampMs: 0, author: author, body: body))
        }
        return projection.authors
    }

    @Test func theCollidingPairIsTheFirstOfABirthdaySearch() {
        var seen = [UInt32: Int]()
        seen.reserveCapacity(1 << 20)
        var found: (Int, Int)?
        for n in 0..<2_000_000 {
            let id = YjsProjection.clientID(for: "author-\(n)")
            if let earlier = seen[id] {
                found = (earlier, n)
                break
            }
            seen[id] = n
        }
        #expect(found.map { "author-\($0.0)" } == Self.first)
        #expect(found.map { "author-\($0.1)" } == Self.second)
        #expect(YjsProjection.clientID(for: Self.first) == YjsProjection.clientID(for: Self.second))
        #expect(YjsProjection.clientID(for: Self.first) == 2_547_241_227)
    }

    @Test func theLaterAuthorInLogOrderGetsTheNextFreeID() throws {
        let h = YjsProjection.clientID(for:)
        // In either order, the author who writes first keeps the plain hash.
        #expect(try Self.authors([Self.first, Self.second]).map(\.client) == [h(Self.first), h(Self.second + "#1")])
        #expect(try Self.authors([Self.second, Self.first]).map(\.client) == [h(Self.second), h(Self.first + "#1")])
        // A rehash can collide too: an author literally named "author-639192#1" takes the id the second
        // author would get, which then moves on to "#2"; or, arriving later, gets "#1" of its own name.
        let literal = Self.second + "#1"
        #expect(try Self.authors([Self.first, literal, Self.second]).map(\.client) == [h(Self.first), h(literal), h(Self.second + "#2")])
        #expect(try Self.authors([Self.first, Self.second, literal]).map(\.client) == [h(Self.first), h(literal), h(literal + "#1")])
        for names in [[Self.first, literal, Self.second], [Self.first, Self.second, literal]] {
            let table = try Self.authors(names)
            #expect(Set(table.map(\.client)).count == names.count)
            #expect(table.map(\.author) == names)
        }
        // Without a collision the ids are the plain hashes (the golden vectors' ids: alice → 2267157479).
        #expect(try Self.authors(["alice", "bob"]).map(\.client) == [2_267_157_479, h("bob")])
    }

    @Test func resolvedIDsSurviveACheckpoint() throws {
        // Projection A goes straight; B is restored from a checkpoint taken after the collision. Both then see
        // the second author again and a new author whose plain hash is the one the second author was moved to.
        let literal = Self.second + "#1"
        var straight = YjsProjection(document: "demo")
        var state = DocumentState()
        var events = [Event]()
        for (n, author) in [Self.first, Self.second, Self.second, literal].enumerated() {
            let change: Change = n == 0 ? .full(blockID: "markpact:file=a.txt", content: "base") : .full(blockID: "markpact:file=a.txt", content: "v\(n)")
            let body = try state.prepare(change, seq: n + 1)
            events.append(Event(document: "demo", seq: n + 1, timestampMs: 0, author: author, body: body))
        }
        try straight.apply(events[0])
        try straight.apply(events[1])
        var restored = try YjsProjection(document: "demo", checkpoint: straight.encodeCheckpoint())
        for event in events[2...] {
            #expect(try straight.apply(event) == (try restored.apply(event)))
        }
        #expect(restored.authors.map(\.client) == straight.authors.map(\.client))
        #expect(restored.authors.map(\.client) == [Self.first, Self.second + "#1", literal + "#1"].map(YjsProjection.clientID(for:)))
        #expect(restored.encodeStateAsUpdate() == straight.encodeStateAsUpdate())
    }
}
