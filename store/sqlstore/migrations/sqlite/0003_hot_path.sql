-- Version 3: an index on every expiry column, so Sweep deletes in small
-- batches, each holding the write lock briefly, without scanning whole
-- tables.
CREATE INDEX IF NOT EXISTS {p}counters_expires ON {p}counters (expires_us) WHERE expires_us <> 0;
CREATE INDEX IF NOT EXISTS {p}sessions_expires ON {p}sessions (expires_us);
CREATE INDEX IF NOT EXISTS {p}sessions_idle_expires ON {p}sessions (idle_expires_us);
