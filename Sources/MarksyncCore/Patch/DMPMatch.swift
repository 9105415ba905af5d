// Match functions of the diff-match-patch port (Python's match_main, match_bitap, match_alphabet).

extension DiffMatchPatch {
    /// Locates the best instance of `pattern` in `text` near `loc` (Python's `match_main`).
    ///
    /// An exact match at `loc` is tried first, so a pattern that is where it is expected costs
    /// O(pattern length); otherwise the fuzzy ``matchBitap(_:_:_:)`` search runs.
    /// - Parameters:
    ///   - text: the text to search.
    ///   - pattern: the pattern to search for.
    ///   - loc: the expected location (clamped to the text).
    /// - Returns: the best match index, or -1.
    public func matchMain(_ text: [UInt32], _ pattern: [UInt32], _ loc: Int) -> Int {
        let loc = max(0, min(loc, text.count))
        if text == pattern { return 0 }
        if text.isEmpty { return -1 }
        if loc + pattern.count <= text.count && text[loc..<(loc + pattern.count)].elementsEqual(pattern) {
            return loc
        }
        return matchBitap(text, pattern, loc)
    }

    /// Locates the best instance of `pattern` in `text` near `loc` (Python's `match_main`).
    /// - Parameters:
    ///   - text: the text to search.
    ///   - pattern: the pattern to search for.
    ///   - loc: the expected location, in code points.
    /// - Returns: the best match index in code points, or -1.
    public func matchMain(_ text: String, _ pattern: String, _ loc: Int) -> Int {
        matchMain(DMPCodePoints.from(text), DMPCodePoints.from(pattern), loc)
    }

    /// The bitap alphabet of a pattern: for each code point, a mask with bit
    /// `pattern.count - i - 1` set for every position `i` where it occurs (Python's
    /// `match_alphabet`). Bits above 63 are dropped, so the result is exact for patterns of
    /// up to 64 code points; ``matchBitap(_:_:_:)`` itself handles longer patterns.
    /// - Parameter pattern: the pattern.
    /// - Returns: the masks by code point.
    public func matchAlphabet(_ pattern: [UInt32]) -> [UInt32: UInt64] {
        var s = [UInt32: UInt64]()
        let m = pattern.count
        for (i, c) in pattern.enumerated() {
            let bit = m - i - 1
            s[c, default: 0] |= bit < 64 ? (1 as UInt64) << UInt64(bit) : 0
        }
        return s
    }

    /// Locates the best instance of `pattern` in `text` near `loc` with the bitap algorithm
    /// and Python's scoring (errors / pattern length + distance / ``matchDistance``, accepted
    /// up to ``matchThreshold``). Patterns of any length are supported (Python uses big
    /// integers; longer than 64 code points uses multi-word masks here).
    /// - Parameters:
    ///   - text: the text to search.
    ///   - pattern: the pattern to search for (not empty).
    ///   - loc: the expected location (clamped to `0...text.count`, as `match_main` does).
    /// - Returns: the best match index, or -1.
    public func matchBitap(_ text: [UInt32], _ pattern: [UInt32], _ loc: Int) -> Int {
        if pattern.isEmpty { return -1 }  // Python divides by zero here; match_main never gets there.
        // match_main always passes a location inside the text; keep direct calls in range too.
        let loc = max(0, min(loc, text.count))
        if pattern.count <= 64 {
            return matchBitapSingleWord(text, pattern, loc)
        }
        return matchBitapMultiWord(text, pattern, loc)
    }

    /// Python's `match_bitapScore`.
    @inline(__always)
    func bitapScore(_ e: Int, _ x: Int, _ loc: Int, _ patternLength: Int) -> Double {
        let accuracy = Double(e) / Double(patternLength)
        let proximity = abs(loc - x)
        if matchDistance == 0 {
            return proximity != 0 ? 1.0 : accuracy
        }
        return accuracy + Double(proximity) / Double(matchDistance)
    }

    /// The initial score threshold, lowered by exact matches near `loc` (Python's speedups,
    /// including its `rfind(pattern, loc + len(pattern))`).
    func bitapInitialThreshold(_ text: [UInt32], _ pattern: [UInt32], _ loc: Int) -> Double {
        var threshold = matchThreshold
        var bestLoc = DMPOps.find(text, pattern, from: loc)
        if bestLoc != -1 {
            threshold = min(bitapScore(0, bestLoc, loc, pattern.count), threshold)
            bestLoc = DMPOps.rfind(text, pattern, from: loc + pattern.count)
            if bestLoc != -1 {
                threshold = min(bitapScore(0, bestLoc, loc, pattern.count), threshold)
            }
        }
        return threshold
    }

    func matchBitapSingleWord(_ text: [UInt32], _ pattern: [UInt32], _ loc: Int) -> Int {
        let m = pattern.count
        let n = text.count
        // Alphabet: a small table for Latin-1 and a dictionary for the rest.
        var small = [UInt64](repeating: 0, count: 256)
        var large = [UInt32: UInt64]()
        for (i, c) in pattern.enumerated() {
            let bit = (1 as UInt64) << UInt64(m - i - 1)
            if c < 256 { small[Int(c)] |= bit } else { large[c, default: 0] |= bit }
        }
        var scoreThreshold = bitapInitialThreshold(text, pattern, loc)
        let matchmask = (1 as UInt64) << UInt64(m - 1)
        var bestLoc = -1
        var binMax = m + n
        // Window of rd indices used: [start0, finish0 + 1] of the first pass, which contains
        // all later (narrower) windows.
        var base = 0
        var rd = [UInt64]()
        var lastRd = [UInt64]()
        text.withUnsafeBufferPointer { t in
            for d in 0..<m {
                var binMin = 0
                var binMid = binMax
                while binMin < binMid {
                    if bitapScore(d, loc + binMid, loc, m) <= scoreThreshold {
                        binMin = binMid
                    } else {
                        binMax = binMid
                    }
                    binMid = (binMax - binMin) / 2 + binMin
                }
                binMax = binMid
                let start = max(1, loc - binMid + 1)
                let finish = min(loc + binMid, n) + m
                if d == 0 {
                    base = start
                    rd = [UInt64](repeating: 0, count: finish + 2 - base)
                    lastRd = rd
                } else {
                    swap(&rd, &lastRd)
                    for i in rd.indices { rd[i] = 0 }
                }
                rd.withUnsafeMutableBufferPointer { rd in
                    lastRd.withUnsafeBufferPointer { lastRd in
                        rd[finish + 1 - base] = d == 0 ? 0 : ((1 as UInt64) << UInt64(d)) &- 1
                        // Python's range(finish, start - 1, -1) is fixed when the loop starts.
                        var j = finish
                        while j >= start {
                            let charMatch: UInt64
                            if n <= j - 1 {
                                charMatch = 0
                            } else {
                                let c = t[j - 1]
                                charMatch = c < 256 ? small[Int(c)] : (large[c] ?? 0)
                            }
                            let jj = j - base
                            if d == 0 {
                                rd[jj] = ((rd[jj + 1] &<< 1) | 1) & charMatch
                            } else {
                                rd[jj] =
                                    (((rd[jj + 1] &<< 1) | 1) & charMatch)
                                    | (((lastRd[jj + 1] | lastRd[jj]) &<< 1) | 1) | lastRd[jj + 1]
                            }
                            if rd[jj] & matchmask != 0 {
                                let score = bitapScore(d, j - 1, loc, m)
                                if score <= scoreThreshold {
                                    scoreThreshold = score
                                    bestLoc = j - 1
                                    if bestLoc <= loc {
                                        // Already passed loc, downhill from here on in.
                                        break
                                    }
                                    // (Python lowers `start` here, which does not affect its loop.)
                                }
                            }
                            j -= 1
                        }
                    }
                }
                if bitapScore(d + 1, loc, loc, m) > scoreThreshold { break }
            }
        }
        return bestLoc
    }

    func matchBitapMultiWord(_ text: [UInt32], _ pattern: [UInt32], _ loc: Int) -> Int {
        let m = pattern.count
        let n = text.count
        let words = (m + 63) / 64
        var alphabet = [UInt32: [UInt64]]()
        for (i, c) in pattern.enumerated() {
            let bit = m - i - 1
            var mask = alphabet[c] ?? [UInt64](repeating: 0, count: words)
            mask[bit / 64] |= (1 as UInt64) << UInt64(bit % 64)
            alphabet[c] = mask
        }
        let zero = [UInt64](repeating: 0, count: words)
        var scoreThreshold = bitapInitialThreshold(text, pattern, loc)
        let maskWord = (m - 1) / 64
        let maskBit = (1 as UInt64) << UInt64((m - 1) % 64)
        var bestLoc = -1
        var binMax = m + n
        var base = 0
        var rd = [UInt64]()
        var lastRd = [UInt64]()
        var scratch = [UInt64](repeating: 0, count: words)
        for d in 0..<m {
            var binMin = 0
            var binMid = binMax
            while binMin < binMid {
                if bitapScore(d, loc + binMid, loc, m) <= scoreThreshold {
                    binMin = binMid
                } else {
                    binMax = binMid
                }
                binMid = (binMax - binMin) / 2 + binMin
            }
            binMax = binMid
            let start = max(1, loc - binMid + 1)
            let finish = min(loc + binMid, n) + m
            if d == 0 {
                base = start
                rd = [UInt64](repeating: 0, count: (finish + 2 - base) * words)
                lastRd = rd
            } else {
                swap(&rd, &lastRd)
                for i in rd.indices { rd[i] = 0 }
            }
            // rd[finish + 1] = (1 << d) - 1
            let top = (finish + 1 - base) * words
            for w in 0..<words {
                let low = w * 64
                if d >= low + 64 {
                    rd[top + w] = UInt64.max
                } else if d > low {
                    rd[top + w] = ((1 as UInt64) << UInt64(d - low)) &- 1
                }
            }
            var j = finish
            while j >= start {
                let charMatch = n <= j - 1 ? zero : (alphabet[text[j - 1]] ?? zero)
                let at = (j - base) * words
                let next = at + words
                // ((rd[j+1] << 1) | 1) & charMatch
                var carry: UInt64 = 1
                for w in 0..<words {
                    let v = rd[next + w]
                    scratch[w] = ((v &<< 1) | carry) & charMatch[w]
                    carry = v >> 63
                }
                if d > 0 {
                    // | (((last[j+1] | last[j]) << 1) | 1) | last[j+1]
                    carry = 1
                    for w in 0..<words {
                        let v = lastRd[next + w] | lastRd[at + w]
                        scratch[w] |= ((v &<< 1) | carry) | lastRd[next + w]
                        carry = v >> 63
                    }
                }
                for w in 0..<words { rd[at + w] = scratch[w] }
                if rd[at + maskWord] & maskBit != 0 {
                    let score = bitapScore(d, j - 1, loc, m)
                    if score <= scoreThreshold {
                        scoreThreshold = score
                        bestLoc = j - 1
                        if bestLoc <= loc { break }
                    }
                }
                j -= 1
            }
            if bitapScore(d + 1, loc, loc, m) > scoreThreshold { break }
        }
        return bestLoc
    }
}
