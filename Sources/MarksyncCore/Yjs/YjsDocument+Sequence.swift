/// Sequences (Y.Text, Y.Array) of ``YjsDocument``: items in document order in chunks, position search,
/// splitting, insertion with Yjs's choice of origins, deletion, and Yjs's merging of neighbours.
extension YjsDocument {
    // MARK: - Navigation

    @inline(__always)
    func index(_ container: Int32, _ location: YjsLocation) -> Int32 {
        containers[Int(container)].chunks[location.chunk][location.index]
    }

    func firstLocation(_ container: Int32) -> YjsLocation? {
        let chunks = containers[Int(container)].chunks
        for (k, chunk) in chunks.enumerated() where !chunk.isEmpty { return YjsLocation(chunk: k, index: 0) }
        return nil
    }

    func lastLocation(_ container: Int32) -> YjsLocation? {
        let chunks = containers[Int(container)].chunks
        for k in chunks.indices.reversed() where !chunks[k].isEmpty { return YjsLocation(chunk: k, index: chunks[k].count - 1) }
        return nil
    }

    func successor(_ container: Int32, _ location: YjsLocation) -> YjsLocation? {
        let c = Int(container)
        if location.index + 1 < containers[c].chunks[location.chunk].count {
            return YjsLocation(chunk: location.chunk, index: location.index + 1)
        }
        var k = location.chunk + 1
        while k < containers[c].chunks.count {
            if !containers[c].chunks[k].isEmpty { return YjsLocation(chunk: k, index: 0) }
            k += 1
        }
        return nil
    }

    func predecessor(_ container: Int32, _ location: YjsLocation) -> YjsLocation? {
        let c = Int(container)
        if location.index > 0 { return YjsLocation(chunk: location.chunk, index: location.index - 1) }
        var k = location.chunk - 1
        while k >= 0 {
            let count = containers[c].chunks[k].count
            if count > 0 { return YjsLocation(chunk: k, index: count - 1) }
            k -= 1
        }
        return nil
    }

    /// The live item holding position `position` (1…total) of a sequence, and the position's offset in
    /// it (1…width): the item ends at or after the position.
    mutating func findLive(_ container: Int32, _ position: Int) -> (YjsLocation, Int) {
        let c = Int(container)
        precondition(position >= 1 && position <= containers[c].total, "position \(position) outside 1…\(containers[c].total)")
        var k = containers[c].hintChunk
        var start = containers[c].hintStart
        if k >= containers[c].chunks.count {
            k = 0
            start = 0
        }
        while k > 0 && position <= start {
            k -= 1
            start -= containers[c].widths[k]
        }
        while position > start + containers[c].widths[k] {
            start += containers[c].widths[k]
            k += 1
        }
        containers[c].hintChunk = k
        containers[c].hintStart = start
        var before = start
        let count = containers[c].chunks[k].count
        for i in 0..<count {
            let index = Int(containers[c].chunks[k][i])
            if items[index].deleted { continue }
            let width = items[index].width
            if position <= before + width { return (YjsLocation(chunk: k, index: i), position - before) }
            before += width
        }
        preconditionFailure("chunk widths disagree with their items")
    }

    // MARK: - Structure changes

    /// Changes a chunk's live width (and the hint, when the chunk is before it).
    mutating func adjustWidth(_ container: Int32, _ chunk: Int, _ delta: Int) {
        guard delta != 0 else { return }
        let c = Int(container)
        containers[c].widths[chunk] += delta
        containers[c].total += delta
        if chunk < containers[c].hintChunk { containers[c].hintStart += delta }
    }

    /// Inserts an item index after `left` (at the start when nil); returns its location.
    mutating func place(_ index: Int32, in container: Int32, after left: YjsLocation?) -> YjsLocation {
        let c = Int(container)
        let width = items[Int(index)].liveWidth
        let location: YjsLocation
        if containers[c].chunks.isEmpty {
            containers[c].chunks = [[index]]
            containers[c].widths = [0]
            containers[c].hintChunk = 0
            containers[c].hintStart = 0
            location = YjsLocation(chunk: 0, index: 0)
        } else if let left {
            location = YjsLocation(chunk: left.chunk, index: left.index + 1)
            containers[c].chunks[left.chunk].insert(index, at: left.index + 1)
        } else {
            location = YjsLocation(chunk: 0, index: 0)
            containers[c].chunks[0].insert(index, at: 0)
        }
        containers[c].dirty.append(location.chunk)
        adjustWidth(container, location.chunk, width)
        return location
    }

    /// Splits oversized chunks and drops empty ones among those the operation touched (called after each
    /// operation, when locations held during it are no longer needed; chunk indices do not move before).
    mutating func tidy(_ container: Int32, all: Bool = false) {
        let c = Int(container)
        var touched = [Int]()
        swap(&touched, &containers[c].dirty)
        if all { touched = Array(containers[c].chunks.indices) }
        if touched.count > 1 { touched.sort(by: >) }
        var previous = -1
        for k in touched where k != previous && k < containers[c].chunks.count {
            previous = k
            let count = containers[c].chunks[k].count
            if count == 0 || count > Self.chunkLimit { tidyChunk(c, k) }
        }
        touched.removeAll(keepingCapacity: true)
        swap(&touched, &containers[c].dirty)
        if containers[c].hintChunk >= containers[c].chunks.count {
            containers[c].hintChunk = 0
            containers[c].hintStart = 0
        }
    }

    private mutating func tidyChunk(_ c: Int, _ k: Int) {
        let count = containers[c].chunks[k].count
        if count == 0 {
            containers[c].chunks.remove(at: k)
            containers[c].widths.remove(at: k)
            if k < containers[c].hintChunk { containers[c].hintChunk -= 1 }
        } else if count > Self.chunkLimit {
            // Into pieces of about half the limit.
            let chunk = containers[c].chunks[k]
            let pieces = (count + Self.chunkLimit / 2 - 1) / (Self.chunkLimit / 2)
            var parts = [[Int32]]()
            var widths = [Int]()
            for n in 0..<pieces {
                let part = Array(chunk[(n * count / pieces)..<((n + 1) * count / pieces)])
                parts.append(part)
                widths.append(part.reduce(0) { $0 + items[Int($1)].liveWidth })
            }
            containers[c].chunks.replaceSubrange(k...k, with: parts)
            containers[c].widths.replaceSubrange(k...k, with: widths)
            if k < containers[c].hintChunk {
                containers[c].hintChunk += pieces - 1
            } else if k == containers[c].hintChunk {
                containers[c].hintChunk = 0
                containers[c].hintStart = 0
            }
        }
    }

    /// The UTF-16 offset of code point `k` of a string item.
    func unitOffset(_ item: YjsItem, _ k: Int) -> Int {
        guard case .string(let units) = item.content, item.length != item.width else { return k }
        var offset = 0
        var scalars = 0
        while scalars < k {
            offset += UTF16.isLeadSurrogate(units[offset]) ? 2 : 1
            scalars += 1
        }
        return offset
    }

    /// Splits the item at `location` after `k` of its width units (0 < k < width): the left part keeps
    /// its place and id, the right part follows it with id (client, clock + offset) and origin the last
    /// unit of the left part (Yjs `splitItem`).
    mutating func split(_ container: Int32, _ location: YjsLocation, _ k: Int) {
        let i = Int(index(container, location))
        let item = items[i]
        precondition(k > 0 && k < item.width)
        let offset = unitOffset(item, k)
        let head: YjsItem.Content
        let tail: YjsItem.Content
        switch item.content {
        case .string(let units):
            head = .string(Array(units[..<offset]))
            tail = .string(Array(units[offset...]))
        case .any(let values):
            head = .any(Array(values[..<offset]))
            tail = .any(Array(values[offset...]))
        case .deleted, .type:
            head = item.content
            tail = item.content
        }
        let right = YjsItem(
            client: item.client, clock: item.clock + offset, length: item.length - offset, width: item.width - k,
            origin: YjsID(client: item.client, clock: item.clock + offset - 1), rightOrigin: item.rightOrigin,
            container: container, deleted: item.deleted, content: tail)
        items[i].length = offset
        items[i].width = k
        items[i].content = head
        let rightIndex = Int32(items.count)
        items.append(right)
        containers[Int(container)].chunks[location.chunk].insert(rightIndex, at: location.index + 1)
        containers[Int(container)].dirty.append(location.chunk)
    }

    // MARK: - Merging (Yjs `mergeWith`)

    /// Whether `right` (the next item in its container) can become part of `left`: same client,
    /// consecutive clocks, `right` made right after `left` in the same place, same deletion state and
    /// the same kind of content. Types and map values are never merged.
    func canMerge(_ left: YjsItem, _ right: YjsItem) -> Bool {
        guard left.alive, right.alive, left.client == right.client, left.clock + left.length == right.clock,
            right.origin == left.lastID, right.rightOrigin == left.rightOrigin, left.deleted == right.deleted,
            left.child < 0, right.child < 0, left.key == nil, right.key == nil
        else { return false }
        switch (left.content, right.content) {
        case (.string, .string), (.any, .any), (.deleted, .deleted): return true
        default: return false
        }
    }

    /// Appends `right`'s units to `left` (the caller checked ``canMerge(_:_:)``).
    mutating func absorb(_ left: Int, _ right: YjsItem) {
        items[left].length += right.length
        items[left].width += right.width
        switch (items[left].content, right.content) {
        case (.string(var units), .string(let more)):
            items[left].content = .deleted  // drop the reference so the append does not copy
            units.append(contentsOf: more)
            items[left].content = .string(units)
        case (.any(var values), .any(let more)):
            items[left].content = .deleted
            values.append(contentsOf: more)
            items[left].content = .any(values)
        default:
            break
        }
        if let open = transaction, right.client == open.client, right.clock + right.length > open.beforeClock {
            transaction?.absorbers.append(Int32(left))
        }
    }

    /// Merges the item at `location` into its left neighbour when Yjs would; returns where the merged
    /// item is.
    @discardableResult
    mutating func mergeWithLeft(_ container: Int32, _ location: YjsLocation) -> YjsLocation {
        guard let leftLocation = predecessor(container, location) else { return location }
        let left = Int(index(container, leftLocation))
        let right = Int(index(container, location))
        guard canMerge(items[left], items[right]) else { return location }
        let width = items[right].liveWidth
        containers[Int(container)].chunks[location.chunk].remove(at: location.index)
        containers[Int(container)].dirty.append(location.chunk)
        adjustWidth(container, location.chunk, -width)
        absorb(left, items[right])
        adjustWidth(container, leftLocation.chunk, width)
        items[right].alive = false
        items[right].content = .deleted
        return leftLocation
    }

    /// Merges every pair of neighbours that can be merged (after a type's content was deleted).
    mutating func mergeAll(_ container: Int32) {
        var location = firstLocation(container)
        while let current = location, let next = successor(container, current) {
            // Merged: stay on the item that grew; not merged: move on.
            location = mergeWithLeft(container, next)
        }
        tidy(container, all: true)
    }

    // MARK: - Operations

    /// UTF-16 code units of code points (values that are not scalars become U+FFFD, as in the log).
    static func utf16(_ scalars: [UInt32]) -> [UInt16] {
        var units = [UInt16]()
        units.reserveCapacity(scalars.count)
        for value in scalars {
            let scalar = (value < 0xD800 || (value > 0xDFFF && value <= 0x10FFFF)) ? Unicode.Scalar(value)! : "\u{FFFD}"
            if scalar.value <= 0xFFFF {
                units.append(UInt16(scalar.value))
            } else {
                units.append(UTF16.leadSurrogate(scalar))
                units.append(UTF16.trailSurrogate(scalar))
            }
        }
        return units
    }

    /// `Y.Text.insert(position, text)`: the left origin is the live item ending at the position, then the
    /// insertion point moves right over tombstones (`findPosition`, `minimizeAttributeChanges`), so the
    /// right origin is the next live item.
    mutating func insertText(_ container: Int32, at position: Int, _ scalars: [UInt32]) {
        guard !scalars.isEmpty else { return }
        var left: YjsLocation?
        if position > 0 {
            let (location, k) = findLive(container, position)
            if k < items[Int(index(container, location))].width { split(container, location, k) }
            left = location
        }
        var right = left.map { successor(container, $0) } ?? firstLocation(container)
        while let next = right, items[Int(index(container, next))].deleted {
            left = next
            right = successor(container, next)
        }
        let units = Self.utf16(scalars)
        integrate(
            container: container, content: .string(units), length: units.count, width: scalars.count, left: left, right: right)
        tidy(container)
    }

    /// `Y.Array.insert(index, values)` (left: the live item ending at the index, right: whatever follows
    /// it) or `Y.Array.push(values)` (left: the last item, tombstones included).
    mutating func insertArray(_ container: Int32, at position: Int, _ values: [YjsAny], push: Bool) {
        guard !values.isEmpty else { return }
        var left: YjsLocation?
        var right: YjsLocation?
        if push {
            left = lastLocation(container)
        } else if position == 0 {
            right = firstLocation(container)
        } else {
            let (location, k) = findLive(container, position)
            if k < items[Int(index(container, location))].width { split(container, location, k) }
            left = location
            right = successor(container, location)
        }
        integrate(container: container, content: .any(values), length: values.count, width: values.count, left: left, right: right)
        tidy(container)
    }

    /// Makes an item between `left` and `right` (neighbours), merging it into `left` when Yjs would.
    mutating func integrate(
        container: Int32, content: YjsItem.Content, length: Int, width: Int, left: YjsLocation?, right: YjsLocation?
    ) {
        let leftIndex = left.map { Int(index(container, $0)) }
        let item = newItem(
            container: container, content: content, length: length, width: width,
            origin: leftIndex.map { items[$0].lastID }, rightOrigin: right.map { items[Int(index(container, $0))].id })
        if let left, let leftIndex, canMerge(items[leftIndex], item) {
            absorb(leftIndex, item)
            adjustWidth(container, left.chunk, item.liveWidth)
            return
        }
        let newIndex = Int32(items.count)
        items.append(item)
        _ = place(newIndex, in: container, after: left)
    }

    /// Deletes `count` live width units from `position` (`Y.Text.delete`, `Y.Array.delete`).
    mutating func deleteRange(_ container: Int32, at position: Int, count: Int) {
        guard count > 0 else { return }
        var location: YjsLocation?
        if position == 0 {
            location = firstLocation(container)
        } else {
            let (found, k) = findLive(container, position)
            if k < items[Int(index(container, found))].width { split(container, found, k) }
            location = successor(container, found)
        }
        var remaining = count
        while remaining > 0, var current = location {
            let i = Int(index(container, current))
            if items[i].deleted {
                current = mergeWithLeft(container, current)
                location = successor(container, current)
                continue
            }
            if remaining < items[i].width { split(container, current, remaining) }
            remaining -= items[i].width
            adjustWidth(container, current.chunk, -items[i].width)
            deleteItem(Int32(i))
            current = mergeWithLeft(container, current)
            location = successor(container, current)
        }
        precondition(remaining == 0, "delete past the end of the sequence")
        if let next = location, items[Int(index(container, next))].deleted { mergeWithLeft(container, next) }
        tidy(container)
    }
}
