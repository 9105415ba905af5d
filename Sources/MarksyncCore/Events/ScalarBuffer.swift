import Glibc

/// Read access to code points, shared by arrays and ``ScalarBuffer`` (blame works on both).
public protocol ScalarText {
    /// How many code points.
    var count: Int { get }
    /// The code point at `index`.
    subscript(index: Int) -> UInt32 { get }
    /// A copy of a range.
    func scalars(_ range: Range<Int>) -> [UInt32]
}

extension Array: ScalarText where Element == UInt32 {
    public func scalars(_ range: Range<Int>) -> [UInt32] { Array(self[range]) }
}

/// Code points with a movable gap (a gap buffer): an edit near the previous one costs O(distance between
/// them) instead of moving the rest of the text. Typing-like histories (many small edits close to each
/// other) replay in O(edits), not O(edits × length).
public struct ScalarBuffer: Sendable, ScalarText {
    private var storage: [UInt32]
    private var gapStart: Int
    private var gapEnd: Int

    /// A buffer holding `scalars`, with the gap at the end.
    public init(_ scalars: [UInt32]) {
        storage = scalars
        gapStart = scalars.count
        gapEnd = scalars.count
    }

    public var count: Int { storage.count - (gapEnd - gapStart) }

    @inline(__always)
    public subscript(index: Int) -> UInt32 { index < gapStart ? storage[index] : storage[index + (gapEnd - gapStart)] }

    public func scalars(_ range: Range<Int>) -> [UInt32] {
        var out = [UInt32]()
        out.reserveCapacity(range.count)
        let gap = gapEnd - gapStart
        if range.upperBound <= gapStart {
            out.append(contentsOf: storage[range])
        } else if range.lowerBound >= gapStart {
            out.append(contentsOf: storage[(range.lowerBound + gap)..<(range.upperBound + gap)])
        } else {
            out.append(contentsOf: storage[range.lowerBound..<gapStart])
            out.append(contentsOf: storage[gapEnd..<(range.upperBound + gap)])
        }
        return out
    }

    /// All code points.
    public var array: [UInt32] { scalars(0..<count) }

    /// The UTF-8 form of a range of code points; values that are not Unicode scalars become U+FFFD (as
    /// ``DMPCodePoints/string(_:)`` writes them).
    func utf8(_ range: Range<Int>) -> [UInt8] {
        let gap = gapEnd - gapStart
        let parts: [Range<Int>] =
            if range.upperBound <= gapStart {
                [range]
            } else if range.lowerBound >= gapStart {
                [(range.lowerBound + gap)..<(range.upperBound + gap)]
            } else {
                [range.lowerBound..<gapStart, gapEnd..<(range.upperBound + gap)]
            }
        return storage.withUnsafeBufferPointer { scalars in
            [UInt8](unsafeUninitializedCapacity: range.count * 4) { out, written in
                var n = 0
                for part in parts {
                    for k in part {
                        let value = scalars[k]
                        if value < 0x80 {
                            out[n] = UInt8(truncatingIfNeeded: value)
                            n += 1
                        } else if value < 0x800 {
                            out[n] = UInt8(truncatingIfNeeded: 0xC0 | (value >> 6))
                            out[n + 1] = UInt8(truncatingIfNeeded: 0x80 | (value & 0x3F))
                            n += 2
                        } else if value < 0x10000 && !(value >= 0xD800 && value <= 0xDFFF) {
                            out[n] = UInt8(truncatingIfNeeded: 0xE0 | (value >> 12))
                            out[n + 1] = UInt8(truncatingIfNeeded: 0x80 | ((value >> 6) & 0x3F))
                            out[n + 2] = UInt8(truncatingIfNeeded: 0x80 | (value & 0x3F))
                            n += 3
                        } else if value >= 0x10000 && value <= 0x10FFFF {
                            out[n] = UInt8(truncatingIfNeeded: 0xF0 | (value >> 18))
                            out[n + 1] = UInt8(truncatingIfNeeded: 0x80 | ((value >> 12) & 0x3F))
                            out[n + 2] = UInt8(truncatingIfNeeded: 0x80 | ((value >> 6) & 0x3F))
                            out[n + 3] = UInt8(truncatingIfNeeded: 0x80 | (value & 0x3F))
                            n += 4
                        } else {
                            out[n] = 0xEF
                            out[n + 1] = 0xBF
                            out[n + 2] = 0xBD
                            n += 3
                        }
                    }
                }
                written = n
            }
        }
    }

    /// Moves the gap so it starts at `position`.
    private mutating func moveGap(to position: Int) {
        if position == gapStart { return }
        let gap = gapEnd - gapStart
        storage.withUnsafeMutableBufferPointer { buffer in
            let base = buffer.baseAddress!
            if position < gapStart {
                let n = gapStart - position
                memmove(base + position + gap, base + position, n * MemoryLayout<UInt32>.stride)
            } else {
                let n = position - gapStart
                memmove(base + gapStart, base + gapEnd, n * MemoryLayout<UInt32>.stride)
            }
        }
        gapStart = position
        gapEnd = position + gap
    }

    /// Replaces a range of code points.
    public mutating func replace(_ range: Range<Int>, with replacement: some Collection<UInt32>) {
        precondition(range.lowerBound >= 0 && range.upperBound <= count, "replace out of range")
        moveGap(to: range.lowerBound)
        gapEnd += range.count  // the replaced code points join the gap
        let needed = replacement.count
        if gapEnd - gapStart < needed {
            let grow = max(needed - (gapEnd - gapStart), count / 16 + 64)
            storage.insert(contentsOf: repeatElement(0, count: grow), at: gapEnd)
            gapEnd += grow
        }
        for scalar in replacement {
            storage[gapStart] = scalar
            gapStart += 1
        }
    }

    /// Runs `body` on the code points as one contiguous array (for diff-match-patch's general path).
    public mutating func withContiguous<Result>(_ body: (inout [UInt32]) throws -> Result) rethrows -> Result {
        moveGap(to: count)
        storage.removeSubrange(gapStart..<gapEnd)
        defer {
            gapStart = storage.count
            gapEnd = storage.count
        }
        return try body(&storage)
    }
}

extension ScalarBuffer: Equatable {
    /// Equal when the code points are (wherever the gaps are).
    public static func == (lhs: ScalarBuffer, rhs: ScalarBuffer) -> Bool {
        guard lhs.count == rhs.count else { return false }
        for index in 0..<lhs.count where lhs[index] != rhs[index] { return false }
        return true
    }
}
