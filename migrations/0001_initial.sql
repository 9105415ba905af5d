-- marksync-log schema, version 1.
-- Every change to a document is one row of `events`; everything else is a projection.

-- Format bookkeeping (log format version, creation time).
CREATE TABLE meta (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
) WITHOUT ROWID;

-- Documents: one log per document, seq is per document, dense, starting at 1.
CREATE TABLE documents (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    created_ms INTEGER NOT NULL,
    head_seq   INTEGER NOT NULL DEFAULT 0,
    head_hash  BLOB NOT NULL DEFAULT x''
);

-- Authors (clients, agents, "file") as small integers, so events stay small.
CREATE TABLE authors (
    id   INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);

-- Block ids as small per-document integers, for the same reason.
CREATE TABLE block_keys (
    doc      INTEGER NOT NULL REFERENCES documents(id),
    key      INTEGER NOT NULL,
    block_id TEXT NOT NULL,
    PRIMARY KEY (doc, key),
    UNIQUE (doc, block_id)
) WITHOUT ROWID;

-- The log. kind: see EventKind; codec: 0 raw, 1 LZ4 ([u32 size][block]); hash: chained (EventCodec).
CREATE TABLE events (
    doc       INTEGER NOT NULL,
    seq       INTEGER NOT NULL,
    ts        INTEGER NOT NULL,          -- Unix time, milliseconds
    author    INTEGER NOT NULL,          -- authors.id
    kind      INTEGER NOT NULL,
    block     INTEGER,                   -- block_keys.key, NULL for document-level events
    base_seq  INTEGER,
    client_id TEXT,                      -- the client's message id, for idempotent writes
    codec     INTEGER NOT NULL,
    payload   BLOB NOT NULL,
    hash      BLOB NOT NULL,
    PRIMARY KEY (doc, seq)
) WITHOUT ROWID;

CREATE UNIQUE INDEX events_client_id ON events(doc, client_id) WHERE client_id IS NOT NULL;

-- Snapshots of the document state, so any seq is O(events since the nearest checkpoint).
CREATE TABLE checkpoints (
    doc     INTEGER NOT NULL,
    seq     INTEGER NOT NULL,
    codec   INTEGER NOT NULL,
    state   BLOB NOT NULL,
    hash    BLOB NOT NULL,                -- the chained hash of the event at `seq`
    PRIMARY KEY (doc, seq)
) WITHOUT ROWID;

-- Durable consumer cursors (agents, subscribers that resume).
CREATE TABLE consumers (
    doc        INTEGER NOT NULL,
    name       TEXT NOT NULL,
    seq        INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL,
    PRIMARY KEY (doc, name)
) WITHOUT ROWID;
