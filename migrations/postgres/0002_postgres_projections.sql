-- marksync-log PostgreSQL schema, version 2: what each node's `serve` wrote to the README paths it
-- projects (the same table as migrations/0004_projections.sql). Paths are those of the node that wrote
-- them; each README path is projected by one node at a time (docs/scale-out.md).
CREATE TABLE projections (
    doc        bigint NOT NULL,
    path       text COLLATE "C" NOT NULL,
    seq        bigint NOT NULL,
    sha256     text COLLATE "C" NOT NULL,
    written_ms bigint NOT NULL,
    confirmed  boolean NOT NULL DEFAULT false,
    PRIMARY KEY (doc, path, seq)
);
CREATE INDEX projections_by_sha ON projections(doc, sha256);
