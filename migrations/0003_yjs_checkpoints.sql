-- marksync-log schema, version 3: checkpoints of the Yjs projection (docs/crdt.md).
-- A cache: written at the seqs of the log's own checkpoints the first time a projection passes them, so
-- an export at any seq replays only the events since the nearest one. Rows whose `hash` is no longer the
-- hash of the event at `seq`, or whose `format` is not the running binary's, are ignored; any row may
-- be deleted at any time.
CREATE TABLE yjs_checkpoints (
    doc    INTEGER NOT NULL,
    seq    INTEGER NOT NULL,
    format TEXT NOT NULL,             -- projection format and checkpoint version, e.g. marksync-yjs/1 c1
    codec  INTEGER NOT NULL,          -- 0 raw, 1 LZ4 ([u32 size][block])
    model  BLOB NOT NULL,             -- YjsProjection.encodeCheckpoint()
    hash   BLOB NOT NULL,             -- the chained hash of the event at `seq`
    PRIMARY KEY (doc, seq)
) WITHOUT ROWID;
