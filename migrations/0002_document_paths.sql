-- marksync-log schema, version 2: the README file a document is projected to (set by `serve`/`ingest`).
ALTER TABLE documents ADD COLUMN readme_path TEXT;
