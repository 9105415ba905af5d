-- The identity (token fingerprint) that made a durable consumer: only it, or an admin token, may move
-- the consumer's cursor. NULL for consumers made on a server without tokens or before this migration.
ALTER TABLE consumers ADD COLUMN IF NOT EXISTS owner TEXT;
