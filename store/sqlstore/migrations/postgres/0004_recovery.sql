-- Version 4: recovery cases (store.Recovery). Numbered 4, leaving 3 to
-- the index migration written alongside it; the migrator applies every
-- version a database has not recorded, so the order of merging does not
-- matter. Cases are audit records: nothing sweeps them.
CREATE TABLE IF NOT EXISTS {p}recovery_cases (
	id TEXT COLLATE "C" PRIMARY KEY,
	user_id TEXT COLLATE "C" NOT NULL,
	state TEXT COLLATE "C" NOT NULL,
	token BYTEA,
	data BYTEA,
	created_us BIGINT NOT NULL,
	updated_us BIGINT NOT NULL,
	not_before_us BIGINT NOT NULL,
	expires_us BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS {p}recovery_cases_user ON {p}recovery_cases (user_id, created_us);
CREATE INDEX IF NOT EXISTS {p}recovery_cases_state ON {p}recovery_cases (state, created_us);
