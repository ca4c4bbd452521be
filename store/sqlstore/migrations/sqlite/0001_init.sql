-- Version 1: every table of the store contract. TEXT compares bytewise
-- (SQLite's default BINARY collation). Times are microseconds since the
-- Unix epoch, UTC; 0 is the zero time.
CREATE TABLE IF NOT EXISTS {p}factors (
	user_id TEXT NOT NULL,
	id TEXT NOT NULL,
	kind TEXT NOT NULL,
	name TEXT NOT NULL,
	status TEXT NOT NULL,
	lookup TEXT,
	secret BLOB,
	data BLOB,
	counter INTEGER NOT NULL,
	created_us INTEGER NOT NULL,
	confirmed_us INTEGER NOT NULL,
	last_used_us INTEGER NOT NULL,
	PRIMARY KEY (user_id, id),
	UNIQUE (kind, lookup)
);
CREATE TABLE IF NOT EXISTS {p}counters (
	counter_key TEXT PRIMARY KEY,
	failures INTEGER NOT NULL,
	until_us INTEGER NOT NULL,
	expires_us INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS {p}challenges (
	id TEXT PRIMARY KEY,
	user_id TEXT NOT NULL,
	factor_id TEXT NOT NULL,
	kind TEXT NOT NULL,
	binding TEXT NOT NULL,
	data BLOB,
	created_us INTEGER NOT NULL,
	expires_us INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS {p}challenges_expires ON {p}challenges (expires_us);
CREATE TABLE IF NOT EXISTS {p}marks (
	mark_key TEXT PRIMARY KEY,
	expires_us INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS {p}marks_expires ON {p}marks (expires_us);
CREATE TABLE IF NOT EXISTS {p}sessions (
	id TEXT PRIMARY KEY,
	user_id TEXT NOT NULL,
	refresh BLOB,
	data BLOB,
	created_us INTEGER NOT NULL,
	last_used_us INTEGER NOT NULL,
	idle_expires_us INTEGER NOT NULL,
	expires_us INTEGER NOT NULL,
	revoked INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS {p}sessions_user ON {p}sessions (user_id, created_us);
CREATE TABLE IF NOT EXISTS {p}retired_refresh (
	session_id TEXT NOT NULL,
	token_hash BLOB NOT NULL,
	PRIMARY KEY (session_id, token_hash)
);
CREATE TABLE IF NOT EXISTS {p}devices (
	id TEXT PRIMARY KEY,
	user_id TEXT NOT NULL,
	token_hash BLOB,
	name TEXT NOT NULL,
	created_us INTEGER NOT NULL,
	last_used_us INTEGER NOT NULL,
	expires_us INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS {p}devices_user ON {p}devices (user_id, created_us);
CREATE INDEX IF NOT EXISTS {p}devices_expires ON {p}devices (expires_us);
