-- Version 1: every table of the store contract. Identifiers are VARBINARY
-- so they compare and sort bytewise (never case-insensitively) and their
-- sizes fit InnoDB's 3072-byte index limit; the Go code refuses longer
-- values rather than let a non-strict server truncate them. Indexes are
-- declared inside CREATE TABLE because MySQL has no CREATE INDEX IF NOT
-- EXISTS, and MySQL DDL is not transactional. Times are microseconds since
-- the Unix epoch, UTC; 0 is the zero time.
CREATE TABLE IF NOT EXISTS {p}factors (
	user_id VARBINARY(512) NOT NULL,
	id VARBINARY(512) NOT NULL,
	kind VARBINARY(255) NOT NULL,
	name VARBINARY(1024) NOT NULL,
	status VARBINARY(64) NOT NULL,
	lookup VARBINARY(2048),
	secret LONGBLOB,
	data LONGBLOB,
	counter BIGINT NOT NULL,
	created_us BIGINT NOT NULL,
	confirmed_us BIGINT NOT NULL,
	last_used_us BIGINT NOT NULL,
	PRIMARY KEY (user_id, id),
	UNIQUE KEY {p}factors_lookup (kind, lookup)
) ENGINE=InnoDB;
CREATE TABLE IF NOT EXISTS {p}counters (
	counter_key VARBINARY(1024) NOT NULL PRIMARY KEY,
	failures INT NOT NULL,
	until_us BIGINT NOT NULL,
	expires_us BIGINT NOT NULL
) ENGINE=InnoDB;
CREATE TABLE IF NOT EXISTS {p}challenges (
	id VARBINARY(512) NOT NULL PRIMARY KEY,
	user_id VARBINARY(512) NOT NULL,
	factor_id VARBINARY(512) NOT NULL,
	kind VARBINARY(255) NOT NULL,
	binding VARBINARY(1024) NOT NULL,
	data LONGBLOB,
	created_us BIGINT NOT NULL,
	expires_us BIGINT NOT NULL,
	KEY {p}challenges_expires (expires_us)
) ENGINE=InnoDB;
CREATE TABLE IF NOT EXISTS {p}marks (
	mark_key VARBINARY(1024) NOT NULL PRIMARY KEY,
	expires_us BIGINT NOT NULL,
	KEY {p}marks_expires (expires_us)
) ENGINE=InnoDB;
CREATE TABLE IF NOT EXISTS {p}sessions (
	id VARBINARY(512) NOT NULL PRIMARY KEY,
	user_id VARBINARY(512) NOT NULL,
	refresh VARBINARY(255),
	data LONGBLOB,
	created_us BIGINT NOT NULL,
	last_used_us BIGINT NOT NULL,
	idle_expires_us BIGINT NOT NULL,
	expires_us BIGINT NOT NULL,
	revoked BOOLEAN NOT NULL,
	KEY {p}sessions_user (user_id, created_us)
) ENGINE=InnoDB;
CREATE TABLE IF NOT EXISTS {p}retired_refresh (
	session_id VARBINARY(512) NOT NULL,
	token_hash VARBINARY(255) NOT NULL,
	PRIMARY KEY (session_id, token_hash)
) ENGINE=InnoDB;
CREATE TABLE IF NOT EXISTS {p}devices (
	id VARBINARY(512) NOT NULL PRIMARY KEY,
	user_id VARBINARY(512) NOT NULL,
	token_hash VARBINARY(255),
	name VARBINARY(1024) NOT NULL,
	created_us BIGINT NOT NULL,
	last_used_us BIGINT NOT NULL,
	expires_us BIGINT NOT NULL,
	KEY {p}devices_user (user_id, created_us),
	KEY {p}devices_expires (expires_us)
) ENGINE=InnoDB;
