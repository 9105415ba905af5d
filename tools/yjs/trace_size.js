#!/usr/bin/env node
// Yjs's own figures for the automerge-paper trace, next to marksync-log's export of the same trace:
//   NODE_PATH=/usr/share/nodejs node tools/yjs/trace_size.js ../shared/data/traces/automerge-paper.json.gz paper.yjs
// (paper.yjs: `marksync-log export-yjs --db <the log of marksync-bench yjs --folder F>/trace.db --out paper.yjs`).
// Prints the update sizes (format v1 and v2) and struct counts of Yjs applying the trace directly, and of
// Yjs loading the export (which must read the trace's final text).
'use strict'
const fs = require('fs')
const zlib = require('zlib')
const Y = require('yjs')

const trace = JSON.parse(zlib.gunzipSync(fs.readFileSync(process.argv[2])))
const structs = (doc) => { let n = 0; doc.store.clients.forEach(list => { n += list.length }); return n }

// The client id marksync-log gives the trace's author ("trace"): FNV-1a, 32 bits (same varUint length).
const fnv = (name) => { let h = 2166136261; for (const b of Buffer.from(name)) { h ^= b; h = Math.imul(h, 16777619) >>> 0 } return h }
const direct = new Y.Doc()
direct.clientID = fnv('trace')
const text = direct.getText('t')
for (const txn of trace.txns) {
  for (const [position, deleted, inserted] of txn.patches) {
    if (deleted) text.delete(position, deleted)
    if (inserted) text.insert(position, inserted)
  }
}
const out = {
  yjs: require('yjs/package.json').version,
  direct: { v1: Y.encodeStateAsUpdate(direct).length, v2: Y.encodeStateAsUpdateV2(direct).length, structs: structs(direct), textOK: text.toString() === trace.endContent }
}
if (process.argv[3]) {
  const bytes = fs.readFileSync(process.argv[3])
  const doc = new Y.Doc()
  Y.applyUpdate(doc, bytes)
  const blocks = doc.getMap('blocks')
  const [first] = blocks.keys()
  out.export = { v1: bytes.length, v2: Y.encodeStateAsUpdateV2(doc).length, structs: structs(doc), textOK: blocks.get(first).toString() === trace.endContent }
}
console.log(JSON.stringify(out, null, 2))
