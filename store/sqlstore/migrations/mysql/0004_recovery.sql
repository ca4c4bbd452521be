-- Version 4: recovery cases (store.Recovery). Numbered 4, leaving 3 to
-- the index migration written alongside it; the migrator applies every
-- version a database has not recorded, so the order of merging does not
-- matter. Cases are audit records: nothing sweeps them. Indexes are
-- declared inside CREATE TABLE, as in version 1.
CREATE TABLE IF NOT EXISTS {p}recovery_cases (
	id VARBINARY(512) NOT NULL PRIMARY KEY,
	user_id VARBINARY(512) NOT NULL,
	state VARBINARY(64) NOT NULL,
	token VARBINARY(255),
	data LONGBLOB,
	created_us BIGINT NOT NULL,
	updated_us BIGINT NOT NULL,
	not_before_us BIGINT NOT NULL,
	expires_us BIGINT NOT NULL,
	KEY {p}recovery_cases_user (user_id, created_us),
	KEY {p}recovery_cases_state (state, created_us)
) ENGINE=InnoDB;
