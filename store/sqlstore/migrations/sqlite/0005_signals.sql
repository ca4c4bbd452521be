-- Version 5: signals (store.Signals), short expiring lists of recent
-- activity. A record is one row: seq, the rowid, is its insertion
-- sequence (a new row's is above every row's in the table), and a list's
-- order is (time_us, seq), so records of equal times keep the order they
-- were added in. Observe runs in one BEGIN IMMEDIATE transaction, which
-- holds the database's write lock, so SQLite needs no per-list row to
-- lock, unlike PostgreSQL and MySQL.
CREATE TABLE IF NOT EXISTS {p}signals (
	seq INTEGER PRIMARY KEY,
	list_key TEXT NOT NULL,
	time_us BIGINT NOT NULL,
	expires_us BIGINT NOT NULL,
	data BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS {p}signals_list ON {p}signals (list_key, time_us, seq);
CREATE INDEX IF NOT EXISTS {p}signals_expires ON {p}signals (expires_us);
