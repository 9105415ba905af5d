#!/usr/bin/env node
// Reads Yjs updates with Yjs (Debian's node-yjs) and prints what the documents hold.
// Same contract as pycrdt_read.py: a JSON job on stdin, a JSON result on stdout.
// Run with NODE_PATH=/usr/share/nodejs. Used by Tests/MarksyncServerTests/YjsInteropTests.swift.
'use strict'
const Y = require('yjs')

function read (doc) {
  const texts = (map) => { const out = {}; map.forEach((value, key) => { out[key] = value.toString() }); return out }
  return {
    meta: doc.getMap('meta').toJSON(),
    blocks: texts(doc.getMap('blocks')),
    order: doc.getArray('order').toArray(),
    prose: texts(doc.getMap('prose')),
    headers: doc.getMap('headers').toJSON()
  }
}

let input = ''
process.stdin.setEncoding('utf8')
process.stdin.on('data', chunk => { input += chunk })
process.stdin.on('end', () => {
  const job = JSON.parse(input)
  const results = job.cases.map(testCase => {
    const doc = new Y.Doc()
    // Defined before the updates arrive, as an editor would.
    doc.getMap('meta'); doc.getMap('blocks'); doc.getArray('order'); doc.getMap('prose'); doc.getMap('headers')
    const wanted = new Set(testCase.read_after || [])
    const states = []
    let error = null
    try {
      testCase.updates.forEach((update, index) => {
        Y.applyUpdate(doc, Buffer.from(update, 'base64'))
        if (wanted.has(index) || index === testCase.updates.length - 1) states.push(read(doc))
      })
      // Structs whose dependencies never arrived stay pending: that is a broken export.
      if (doc.store.pendingStructs !== null || doc.store.pendingDs !== null) error = 'pending structs or deletions left'
    } catch (e) {
      error = String(e && e.stack || e)
    }
    return { name: testCase.name, states, error }
  })
  process.stdout.write(JSON.stringify({ yjs: require('yjs/package.json').version, results }))
})
