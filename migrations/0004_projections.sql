-- marksync-log schema, version 4: what `serve` wrote to each README it projects (docs/operations.md).
-- One row per README write: the seq rendered and the sha256 of the bytes. A file on disk whose sha256 is
-- in this table is the projection of the log at that seq (however old), not an edit; an edit is merged
-- onto the head with the last confirmed projection of its path as the base. `confirmed` is 0 from just
-- before the write until the file is in place.
CREATE TABLE projections (
    doc        INTEGER NOT NULL,
    path       TEXT NOT NULL,
    seq        INTEGER NOT NULL,
    sha256     TEXT NOT NULL,        -- lowercase hex of the bytes written
    written_ms INTEGER NOT NULL,
    confirmed  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (doc, path, seq)
) WITHOUT ROWID;
CREATE INDEX projections_by_sha ON projections(doc, sha256);
