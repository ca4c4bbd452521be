-- Version 5: signals (store.Signals), short expiring lists of recent
-- activity. A record is one row, keyed by its list and an insertion
-- sequence; a list's order is (time_us, seq), so records of equal times
-- keep the order they were added in. signal_lists holds one row per list
-- that has been written: Observe locks it, so concurrent calls on one
-- list take turns, and its expires_us (the latest expiry of the list's
-- records, 0 when it has none) lets Sweep remove it once nothing in it
-- is live. Indexes are declared inside CREATE TABLE, as in version 1.
CREATE TABLE IF NOT EXISTS {p}signals (
	list_key VARBINARY(256) NOT NULL,
	seq BIGINT NOT NULL AUTO_INCREMENT,
	time_us BIGINT NOT NULL,
	expires_us BIGINT NOT NULL,
	data VARBINARY(512) NOT NULL,
	PRIMARY KEY (list_key, seq),
	KEY {p}signals_seq (seq),
	KEY {p}signals_list (list_key, time_us, seq),
	KEY {p}signals_expires (expires_us)
) ENGINE=InnoDB;
CREATE TABLE IF NOT EXISTS {p}signal_lists (
	list_key VARBINARY(256) NOT NULL PRIMARY KEY,
	expires_us BIGINT NOT NULL,
	KEY {p}signal_lists_expires (expires_us)
) ENGINE=InnoDB;
DROP PROCEDURE IF EXISTS {p}observe;
--{
-- {p}observe is Signals.Observe, in its own READ COMMITTED transaction,
-- rolled back on any error. p_lists is a JSON array of the call's
-- distinct lists, sorted by key, each [hex key, 1 if a sighting adds to
-- it]; p_sightings a JSON array of [list index, keep, 1 to add, time us,
-- expires us, hex data], in the call's order. Every list is locked first,
-- in key order, so two calls never wait for each other in a cycle: a list
-- added to gets its row (inserted if missing), a list only read is locked
-- if it has one. Then each sighting in turn drops the list's records
-- expired at p_now, adds its record, trims the list to its keep newest
-- and returns the list, oldest first, as one result set whose rows carry
-- the sighting's number. A list only read that has no row has no records
-- to drop or trim (Sweep removes a row only once all of its records have
-- expired), so it is read without a lock.
CREATE PROCEDURE {p}observe(IN p_lists LONGTEXT, IN p_sightings LONGTEXT, IN p_now BIGINT)
BEGIN
	DECLARE n, m, j, li, keep, cnt, extra INT;
	DECLARE k VARBINARY(256);
	DECLARE xp BIGINT;
	DECLARE held LONGTEXT DEFAULT '[]';
	DECLARE EXIT HANDLER FOR SQLEXCEPTION BEGIN ROLLBACK; RESIGNAL; END;
	SET n = JSON_LENGTH(p_lists), m = JSON_LENGTH(p_sightings);
	SET TRANSACTION ISOLATION LEVEL READ COMMITTED;
	START TRANSACTION;
	SET j = 0;
	WHILE j < n DO
		SET k = UNHEX(JSON_UNQUOTE(JSON_EXTRACT(p_lists, CONCAT('$[', j, '][0]'))));
		IF CAST(JSON_EXTRACT(p_lists, CONCAT('$[', j, '][1]')) AS SIGNED) = 1 THEN
			INSERT INTO {p}signal_lists (list_key, expires_us) VALUES (k, 0)
				ON DUPLICATE KEY UPDATE list_key = list_key;
			SET cnt = 1;
		ELSE
			SELECT COUNT(*) INTO cnt FROM {p}signal_lists WHERE list_key = k FOR UPDATE;
		END IF;
		SET held = JSON_ARRAY_APPEND(held, '$', cnt);
		SET j = j + 1;
	END WHILE;
	SET j = 0;
	WHILE j < m DO
		SET li = CAST(JSON_EXTRACT(p_sightings, CONCAT('$[', j, '][0]')) AS SIGNED);
		SET keep = CAST(JSON_EXTRACT(p_sightings, CONCAT('$[', j, '][1]')) AS SIGNED);
		SET k = UNHEX(JSON_UNQUOTE(JSON_EXTRACT(p_lists, CONCAT('$[', li, '][0]'))));
		IF CAST(JSON_EXTRACT(held, CONCAT('$[', li, ']')) AS SIGNED) = 1 THEN
			DELETE FROM {p}signals WHERE list_key = k AND expires_us <= p_now;
			IF CAST(JSON_EXTRACT(p_sightings, CONCAT('$[', j, '][2]')) AS SIGNED) = 1 THEN
				INSERT INTO {p}signals (list_key, time_us, expires_us, data) VALUES (k,
					CAST(JSON_EXTRACT(p_sightings, CONCAT('$[', j, '][3]')) AS SIGNED),
					CAST(JSON_EXTRACT(p_sightings, CONCAT('$[', j, '][4]')) AS SIGNED),
					UNHEX(JSON_UNQUOTE(JSON_EXTRACT(p_sightings, CONCAT('$[', j, '][5]')))));
			END IF;
			SELECT COUNT(*), COALESCE(MAX(expires_us), 0) INTO cnt, xp FROM {p}signals WHERE list_key = k;
			IF cnt > keep THEN
				SET extra = cnt - keep;
				DELETE FROM {p}signals WHERE list_key = k ORDER BY time_us, seq LIMIT extra;
				SELECT COALESCE(MAX(expires_us), 0) INTO xp FROM {p}signals WHERE list_key = k;
			END IF;
			UPDATE {p}signal_lists SET expires_us = xp WHERE list_key = k;
		END IF;
		SELECT j, t.time_us, t.expires_us, t.data FROM (
			SELECT time_us, expires_us, data, seq FROM {p}signals
			WHERE list_key = k AND expires_us > p_now
			ORDER BY time_us DESC, seq DESC LIMIT keep) t
			ORDER BY t.time_us, t.seq;
		SET j = j + 1;
	END WHILE;
	COMMIT;
END;
--}
