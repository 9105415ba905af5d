#!/usr/bin/env node
// A Yjs viewer of marksync-log's read-only y-websocket endpoint, built from y-protocols' sync,
// awareness and auth messages (Debian's node-yjs, node-y-protocols, node-lib0) over a minimal
// WebSocket client (Node 20 has none built in).
//
//   NODE_PATH=/usr/share/nodejs node ws_viewer.js ws://127.0.0.1:PORT/yjs/DOC '{"plan": …}'
//
// Plan (all optional): {"awareness": {...}} sets this viewer's awareness state once synced;
// {"edit": true} makes a local edit once synced (the server must refuse it);
// {"until": {"block": id, "contains": text}} ends when a block holds the text;
// {"untilAwareness": name} ends when another viewer's awareness state has user.name == name;
// {"untilDenied": true} ends after a permission-denied message (all "until…" conditions must hold);
// {"timeout": ms} (default 60000).
// Output: one JSON object per line: {"event": "open" | "synced" | "update" | "denied" | "awareness" |
// "done" | "closed" | "error", ...}. Used by Tests/MarksyncServerTests/YjsInteropTests.swift.
'use strict'
const http = require('http')
const crypto = require('crypto')
const Y = require('yjs')
const syncProtocol = require('y-protocols/sync')
const awarenessProtocol = require('y-protocols/awareness')
const authProtocol = require('y-protocols/auth')
const encoding = require('lib0/encoding')
const decoding = require('lib0/decoding')

const url = new URL(process.argv[2])
const plan = JSON.parse(process.argv[3] || '{}')
const emit = (object) => process.stdout.write(JSON.stringify(object) + '\n')
const finish = (code) => { emit({ event: 'done', code }); process.exit(code) }
setTimeout(() => { emit({ event: 'error', message: 'timeout' }); process.exit(2) }, plan.timeout || 60000)

const doc = new Y.Doc()
const awareness = new awarenessProtocol.Awareness(doc)
awareness.setLocalState(null)
let socket = null
let synced = false
let denied = 0

function read () {
  const texts = (map) => { const out = {}; map.forEach((value, key) => { out[key] = value.toString() }); return out }
  return { blocks: texts(doc.getMap('blocks')), order: doc.getArray('order').toArray(), meta: doc.getMap('meta').toJSON() }
}

// Ends (status 0) once synced and every "until…" condition of the plan holds.
function check () {
  if (!synced) return
  const conditions = []
  if (plan.until) {
    const text = doc.getMap('blocks').get(plan.until.block)
    conditions.push(Boolean(text && text.toString().includes(plan.until.contains)))
  }
  if (plan.untilAwareness) {
    let seen = false
    for (const [client, state] of awareness.getStates()) {
      if (client !== doc.clientID && state && state.user && state.user.name === plan.untilAwareness) seen = true
    }
    conditions.push(seen)
  }
  if (plan.untilDenied) conditions.push(denied > 0)
  if (conditions.length > 0 && conditions.every(Boolean)) finish(0)
}

// --- WebSocket framing (RFC 6455), client side: frames out are masked.
function sendFrame (opcode, payload) {
  const length = payload.length
  const header = length < 126 ? Buffer.alloc(2) : (length < 65536 ? Buffer.alloc(4) : Buffer.alloc(10))
  header[0] = 0x80 | opcode
  if (length < 126) header[1] = 0x80 | length
  else if (length < 65536) { header[1] = 0x80 | 126; header.writeUInt16BE(length, 2) } else { header[1] = 0x80 | 127; header.writeBigUInt64BE(BigInt(length), 2) }
  const mask = crypto.randomBytes(4)
  const masked = Buffer.alloc(length)
  for (let i = 0; i < length; i++) masked[i] = payload[i] ^ mask[i % 4]
  socket.write(Buffer.concat([header, mask, masked]))
}
const send = (bytes) => sendFrame(0x2, Buffer.from(bytes))

let pending = Buffer.alloc(0)
let fragments = []
function onData (chunk) {
  pending = Buffer.concat([pending, chunk])
  while (pending.length >= 2) {
    const fin = (pending[0] & 0x80) !== 0
    const opcode = pending[0] & 0x0f
    let length = pending[1] & 0x7f
    let offset = 2
    if (length === 126) { if (pending.length < 4) return; length = pending.readUInt16BE(2); offset = 4 } else if (length === 127) { if (pending.length < 10) return; length = Number(pending.readBigUInt64BE(2)); offset = 10 }
    if (pending.length < offset + length) return
    const payload = pending.subarray(offset, offset + length)
    pending = pending.subarray(offset + length)
    if (opcode === 0x8) { emit({ event: 'closed', code: payload.length >= 2 ? payload.readUInt16BE(0) : null, reason: payload.subarray(2).toString() }); process.exit(plan.expectClose ? 0 : 3) }
    if (opcode === 0x9) { sendFrame(0xA, payload); continue }
    if (opcode === 0xA) continue
    fragments.push(Buffer.from(payload))
    if (!fin) continue
    const message = Buffer.concat(fragments)
    fragments = []
    if (opcode === 0x2 || (opcode === 0x0)) onMessage(new Uint8Array(message))
  }
}

// --- y-protocols, as y-websocket's client does it.
function onMessage (data) {
  const decoder = decoding.createDecoder(data)
  const encoder = encoding.createEncoder()
  const type = decoding.readVarUint(decoder)
  if (type === 0) {
    encoding.writeVarUint(encoder, 0)
    const syncType = syncProtocol.readSyncMessage(decoder, encoder, doc, 'server')
    if (encoding.length(encoder) > 1) send(encoding.toUint8Array(encoder))
    if (syncType === syncProtocol.messageYjsSyncStep2 && !synced) {
      synced = true
      emit({ event: 'synced', state: read() })
      if (plan.awareness) awareness.setLocalState(plan.awareness)
      if (plan.edit) {
        const first = doc.getArray('order').get(0)
        doc.getMap('blocks').get(first).insert(0, 'LOCAL EDIT ')
        emit({ event: 'edited', state: read() })
      }
    }
  } else if (type === 1) {
    awarenessProtocol.applyAwarenessUpdate(awareness, decoding.readVarUint8Array(decoder), 'server')
    const states = {}
    awareness.getStates().forEach((state, client) => { states[client] = state })
    emit({ event: 'awareness', states })
  } else if (type === 2) {
    authProtocol.readAuthMessage(decoder, doc, (_doc, reason) => { denied += 1; emit({ event: 'denied', reason }) })
  }
  check()
}

doc.on('update', (update, origin) => {
  if (origin !== 'server') {
    const encoder = encoding.createEncoder()
    encoding.writeVarUint(encoder, 0)
    syncProtocol.writeUpdate(encoder, update)
    send(encoding.toUint8Array(encoder))
  } else if (synced) {
    emit({ event: 'update', state: read() })
  }
})
awareness.on('update', ({ added, updated, removed }, origin) => {
  if (origin === 'server') return
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, 1)
  encoding.writeVarUint8Array(encoder, awarenessProtocol.encodeAwarenessUpdate(awareness, added.concat(updated, removed)))
  send(encoding.toUint8Array(encoder))
})

const request = http.request({
  host: url.hostname,
  port: url.port,
  path: url.pathname + url.search,
  headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Key': crypto.randomBytes(16).toString('base64'), 'Sec-WebSocket-Version': '13' }
})
request.on('upgrade', (response, upgraded, head) => {
  socket = upgraded
  socket.on('data', onData)
  socket.on('close', () => { emit({ event: 'closed' }); process.exit(plan.expectClose ? 0 : 3) })
  emit({ event: 'open' })
  // Sync step 1, as y-websocket's client sends it on open.
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, 0)
  syncProtocol.writeSyncStep1(encoder, doc)
  send(encoding.toUint8Array(encoder))
  if (head && head.length) onData(head)
})
request.on('response', (response) => { emit({ event: 'error', message: `HTTP ${response.statusCode}, not upgraded` }); process.exit(4) })
request.on('error', (error) => { emit({ event: 'error', message: String(error) }); process.exit(5) })
request.end()
