import Foundation
import Testing

@testable import MarksyncCore

struct RevisionTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)  // 2027-01-15T08:00:00Z
    let utc = TimeZone(secondsFromGMT: 0)!

    func parse(_ text: String, zone: TimeZone? = nil) throws -> Revision {
        try Revision(parsing: text, now: now, timeZone: zone ?? utc)
    }

    @Test func seqsAndHead() throws {
        #expect(try parse("42") == .seq(42))
        #expect(try parse("0") == .seq(0))
        #expect(try parse("HEAD") == .head(back: 0))
        #expect(try parse("head") == .head(back: 0))
        #expect(try parse("HEAD~3") == .head(back: 3))
        #expect(try parse("HEAD~0") == .head(back: 0))
        #expect(try parse("HEAD^") == .head(back: 1))
        #expect(try parse("HEAD^^") == .head(back: 2))
        #expect(Revision.head(back: 3).seq(head: 10) == 7)
        #expect(Revision.head(back: 30).seq(head: 10) == 0)
        #expect(Revision.seq(4).seq(head: 10) == 4)
        #expect(Revision.time(ms: 5).seq(head: 10) == nil)
    }

    @Test func relativeTimesCountBackFromNow() throws {
        let nowMs: Int64 = 1_800_000_000_000
        #expect(try parse("2h") == .time(ms: nowMs - 7_200_000))
        #expect(try parse("30m") == .time(ms: nowMs - 1_800_000))
        #expect(try parse("3d") == .time(ms: nowMs - 3 * 86_400_000))
        #expect(try parse("1w") == .time(ms: nowMs - 604_800_000))
        #expect(try parse("45s") == .time(ms: nowMs - 45_000))
        #expect(try parse("2 hours ago") == .time(ms: nowMs - 7_200_000))
    }

    @Test func isoTimesWithAndWithoutZone() throws {
        #expect(try parse("2027-01-15T08:00:00Z") == .time(ms: 1_800_000_000_000))
        #expect(try parse("2027-01-15T09:00:00+01:00") == .time(ms: 1_800_000_000_000))
        #expect(try parse("2027-01-15T03:00:00-0500") == .time(ms: 1_800_000_000_000))
        #expect(try parse("2027-01-15 08:00") == .time(ms: 1_800_000_000_000))
        #expect(try parse("2027-01-15T08:00:00.250Z") == .time(ms: 1_800_000_000_250))
        #expect(try parse("2027-01-15") == .time(ms: 1_800_000_000_000 - 8 * 3_600_000))
        // Without a zone: the given (local) zone.
        let paris = TimeZone(secondsFromGMT: 3600)!
        #expect(try parse("2027-01-15 09:00:00", zone: paris) == .time(ms: 1_800_000_000_000))
    }

    @Test func nonsenseIsRefusedWithAHelpfulMessage() {
        for text in ["", "HEAD~x", "-3", "yesterday", "2027-13-01", "2027-02-31", "2027-01-15T25:00", "2h30", "12x", "2027-01-15Tfoo"] {
            #expect(throws: Revision.ParseError.self, "\(text)") { try parse(text) }
        }
        do {
            _ = try parse("soon")
            Issue.record("parsed")
        } catch {
            #expect(String(describing: error).contains("HEAD~N"))
        }
    }
}

struct BlockReferenceTests {
    let ids = [
        "markpact:file=app/main.py", "markpact:file=app/models.py", "markpact:file=tests/test_main.py", "markpact:deps=python",
        "markpact:run", "markpact:test=pytest", "markpact:file=README.txt",
    ]

    @Test func exactKindAndSuffix() {
        #expect(BlockReference.resolve("markpact:file=app/main.py", in: ids) == .unique("markpact:file=app/main.py"))
        #expect(BlockReference.resolve("run", in: ids) == .unique("markpact:run"))
        #expect(BlockReference.resolve("markpact:run", in: ids) == .unique("markpact:run"))
        #expect(BlockReference.resolve("app/main.py", in: ids) == .unique("markpact:file=app/main.py"))
        #expect(BlockReference.resolve("main.py", in: ids) == .unique("markpact:file=app/main.py"))  // not test_main.py: no boundary
        #expect(BlockReference.resolve("python", in: ids) == .unique("markpact:deps=python"))
        #expect(BlockReference.resolve("deps", in: ids) == .unique("markpact:deps=python"))
        #expect(BlockReference.resolve("models.py", in: ids) == .unique("markpact:file=app/models.py"))
    }

    @Test func ambiguousListsTheCandidates() throws {
        #expect(
            BlockReference.resolve("file", in: ids)
                == .ambiguous(["markpact:file=README.txt", "markpact:file=app/main.py", "markpact:file=app/models.py", "markpact:file=tests/test_main.py"]))
        let twins = ["markpact:file=a/main.py", "markpact:file=b/main.py"]
        #expect(BlockReference.resolve("main.py", in: twins) == .ambiguous(twins))
        #expect(BlockReference.resolve("a/main.py", in: twins) == .unique(twins[0]))
        do {
            _ = try BlockReference.require("main.py", in: twins)
            Issue.record("resolved")
        } catch {
            #expect(String(describing: error).contains("ambiguous"))
            #expect(String(describing: error).contains("markpact:file=a/main.py"))
            #expect(String(describing: error).contains("markpact:file=b/main.py"))
        }
    }

    @Test func unknownSuggestsCloseIds() throws {
        guard case .unknown(let suggestions) = BlockReference.resolve("mian.py", in: ids) else {
            Issue.record("resolved")
            return
        }
        #expect(suggestions.first == "markpact:file=app/main.py")
        do {
            _ = try BlockReference.require("markpact:nope", in: ids)
            Issue.record("resolved")
        } catch {
            #expect(String(describing: error).contains("no block \"markpact:nope\""))
            #expect(String(describing: error).contains("markpact:run"))  // something to pick from
        }
        do {
            _ = try BlockReference.require("x", in: [String]())
            Issue.record("resolved")
        } catch {
            #expect(String(describing: error).contains("no blocks"))
        }
    }

    @Test func kinds() {
        #expect(BlockReference.kind(of: "markpact:file=app/main.py") == "file")
        #expect(BlockReference.kind(of: "markpact:run#2") == "run")
        #expect(BlockReference.kind(of: "markpact:run") == "run")
    }

    @Test func editDistance() {
        #expect(BlockReference.editDistance(Array("kitten"), Array("sitting")) == 3)
        #expect(BlockReference.editDistance(Array(""), Array("abc")) == 3)
    }
}
