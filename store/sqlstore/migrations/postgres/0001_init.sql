-- Version 1: every table of the store contract. Identifiers sort bytewise
-- (COLLATE "C") so ordered lists match every other backend. Times are
-- microseconds since the Unix epoch, UTC; 0 is the zero time.
CREATE TABLE IF NOT EXISTS {p}factors (
	user_id TEXT COLLATE "C" NOT NULL,
	id TEXT COLLATE "C" NOT NULL,
	kind TEXT COLLATE "C" NOT NULL,
	name TEXT NOT NULL,
	status TEXT NOT NULL,
	lookup TEXT COLLATE "C",
	secret BYTEA,
	data BYTEA,
	counter BIGINT NOT NULL,
	created_us BIGINT NOT NULL,
	confirmed_us BIGINT NOT NULL,
	last_used_us BIGINT NOT NULL,
	PRIMARY KEY (user_id, id),
	UNIQUE (kind, lookup)
);
CREATE TABLE IF NOT EXISTS {p}counters (
	counter_key TEXT COLLATE "C" PRIMARY KEY,
	failures INTEGER NOT NULL,
	until_us BIGINT NOT NULL,
	expires_us BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS {p}challenges (
	id TEXT COLLATE "C" PRIMARY KEY,
	user_id TEXT COLLATE "C" NOT NULL,
	factor_id TEXT COLLATE "C" NOT NULL,
	kind TEXT COLLATE "C" NOT NULL,
	binding TEXT COLLATE "C" NOT NULL,
	data BYTEA,
	created_us BIGINT NOT NULL,
	expires_us BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS {p}challenges_expires ON {p}challenges (expires_us);
CREATE TABLE IF NOT EXISTS {p}marks (
	mark_key TEXT COLLATE "C" PRIMARY KEY,
	expires_us BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS {p}marks_expires ON {p}marks (expires_us);
CREATE TABLE IF NOT EXISTS {p}sessions (
	id TEXT COLLATE "C" PRIMARY KEY,
	user_id TEXT COLLATE "C" NOT NULL,
	refresh BYTEA,
	data BYTEA,
	created_us BIGINT NOT NULL,
	last_used_us BIGINT NOT NULL,
	idle_expires_us BIGINT NOT NULL,
	expires_us BIGINT NOT NULL,
	revoked BOOLEAN NOT NULL
);
CREATE INDEX IF NOT EXISTS {p}sessions_user ON {p}sessions (user_id, created_us);
CREATE TABLE IF NOT EXISTS {p}retired_refresh (
	session_id TEXT COLLATE "C" NOT NULL,
	token_hash BYTEA NOT NULL,
	PRIMARY KEY (session_id, token_hash)
);
CREATE TABLE IF NOT EXISTS {p}devices (
	id TEXT COLLATE "C" PRIMARY KEY,
	user_id TEXT COLLATE "C" NOT NULL,
	token_hash BYTEA,
	name TEXT NOT NULL,
	created_us BIGINT NOT NULL,
	last_used_us BIGINT NOT NULL,
	expires_us BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS {p}devices_user ON {p}devices (user_id, created_us);
CREATE INDEX IF NOT EXISTS {p}devices_expires ON {p}devices (expires_us);
