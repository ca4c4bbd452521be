-- Version 3: an index on every expiry column, so Sweep deletes in small
-- batches without scanning whole tables (Migrate skips an index that a
-- cut-short run already made, as MySQL has no CREATE INDEX IF NOT
-- EXISTS); and the three procedures of the hot path, so Hit, Advance and
-- RotateRefresh are each one CALL, one network round trip. Each procedure
-- runs its own READ COMMITTED transaction and rolls it back on any error.
CREATE INDEX {p}counters_expires ON {p}counters (expires_us);
CREATE INDEX {p}sessions_expires ON {p}sessions (expires_us);
CREATE INDEX {p}sessions_idle_expires ON {p}sessions (idle_expires_us);
DROP PROCEDURE IF EXISTS {p}hit;
--{
-- {p}hit is Counters.Hit: p_counters is a JSON array of
-- [hex key, free, base ns, max ns, cap, ttl ns], sorted by key. Every row
-- is locked (a zero placeholder is inserted for a missing one) before
-- anything is decided, then store.Rule.Blocked decides and, if nothing
-- blocks, store.Rule.Apply is written; a refusal rolls back. The factor
-- is read after the commit, when the attempt was admitted.
CREATE PROCEDURE {p}hit(IN p_counters LONGTEXT, IN p_now_ns BIGINT, IN p_user VARBINARY(512), IN p_id VARBINARY(512))
BEGIN
	DECLARE n, i, fr, cp, fails INT;
	DECLARE k VARBINARY(1024);
	DECLARE unt, xp, retry BIGINT;
	DECLARE d, base, mx, ttl DECIMAL(40, 0);
	DECLARE blocked, hard BOOLEAN DEFAULT FALSE;
	DECLARE j INT;
	DECLARE EXIT HANDLER FOR SQLEXCEPTION BEGIN ROLLBACK; RESIGNAL; END;
	SET retry = 0;
	SET n = JSON_LENGTH(p_counters);
	SET TRANSACTION ISOLATION LEVEL READ COMMITTED;
	START TRANSACTION;
	SET i = 0;
	WHILE i < n DO
		SET k = UNHEX(JSON_UNQUOTE(JSON_EXTRACT(p_counters, CONCAT('$[', i, '][0]'))));
		SET cp = CAST(JSON_EXTRACT(p_counters, CONCAT('$[', i, '][4]')) AS SIGNED);
		INSERT INTO {p}counters (counter_key, failures, until_us, expires_us) VALUES (k, 0, 0, 0)
			ON DUPLICATE KEY UPDATE counter_key = counter_key;
		SELECT failures, until_us, expires_us INTO fails, unt, xp FROM {p}counters WHERE counter_key = k FOR UPDATE;
		IF xp <> 0 AND p_now_ns >= CAST(xp AS DECIMAL(40, 0)) * 1000 THEN
			SET i = i + 1; -- forgotten
		ELSE
			IF cp > 0 AND fails >= cp THEN
				SET blocked = TRUE, hard = TRUE;
			ELSEIF p_now_ns < CAST(unt AS DECIMAL(40, 0)) * 1000 THEN
				SET blocked = TRUE;
				IF unt > retry THEN
					SET retry = unt;
				END IF;
			END IF;
			SET i = i + 1;
		END IF;
	END WHILE;
	IF blocked THEN
		ROLLBACK;
		IF hard THEN
			SET retry = 0;
		END IF;
		SELECT FALSE, hard, retry, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0, 0, 0;
	ELSE
		SET i = 0;
		WHILE i < n DO
			SET k = UNHEX(JSON_UNQUOTE(JSON_EXTRACT(p_counters, CONCAT('$[', i, '][0]'))));
			SET fr = CAST(JSON_EXTRACT(p_counters, CONCAT('$[', i, '][1]')) AS SIGNED);
			SET base = CAST(JSON_EXTRACT(p_counters, CONCAT('$[', i, '][2]')) AS SIGNED);
			SET mx = CAST(JSON_EXTRACT(p_counters, CONCAT('$[', i, '][3]')) AS SIGNED);
			SET ttl = CAST(JSON_EXTRACT(p_counters, CONCAT('$[', i, '][5]')) AS SIGNED);
			SELECT failures, until_us, expires_us INTO fails, unt, xp FROM {p}counters WHERE counter_key = k;
			IF xp <> 0 AND p_now_ns >= CAST(xp AS DECIMAL(40, 0)) * 1000 THEN
				SET fails = 0, unt = 0, xp = 0;
			END IF;
			SET fails = fails + 1;
			IF fr > 0 AND fails >= fr THEN
				SET d = 0;
				IF base > 0 THEN
					SET d = base, j = fr;
					dbl: WHILE j < fails DO
						IF mx > 0 AND d >= mx THEN
							LEAVE dbl;
						END IF;
						IF d > 4611686018427387903 THEN
							SET d = 9223372036854775807;
							LEAVE dbl;
						END IF;
						SET d = d * 2, j = j + 1;
					END WHILE dbl;
					IF mx > 0 AND d > mx THEN
						SET d = mx;
					END IF;
				END IF;
				SET unt = LEAST((p_now_ns + d) DIV 1000, 9223372036854775807);
			END IF;
			IF ttl > 0 THEN
				SET xp = LEAST((p_now_ns + ttl) DIV 1000, 9223372036854775807);
			END IF;
			UPDATE {p}counters SET failures = fails, until_us = unt, expires_us = xp WHERE counter_key = k;
			SET i = i + 1;
		END WHILE;
		COMMIT;
		SELECT TRUE, FALSE, 0, f.user_id, f.id, f.kind, f.name, f.status, f.lookup, f.secret, f.data,
			f.counter, f.created_us, f.confirmed_us, f.last_used_us
			FROM (SELECT 1 AS one) AS o LEFT JOIN {p}factors f ON f.user_id = p_user AND f.id = p_id;
	END IF;
END;
--}
DROP PROCEDURE IF EXISTS {p}advance;
--{
-- {p}advance is Factors.Advance: 1 done, 0 a lost compare, -1 no such
-- factor. p_reset is a JSON array of hex keys, p_forgive one of
-- [hex key, free], both sorted by key.
CREATE PROCEDURE {p}advance(IN p_user VARBINARY(512), IN p_id VARBINARY(512), IN p_from BIGINT, IN p_to BIGINT,
	IN p_now_us BIGINT, IN p_set_data BOOLEAN, IN p_data LONGBLOB, IN p_reset LONGTEXT, IN p_forgive LONGTEXT)
BEGIN
	DECLARE cur BIGINT DEFAULT NULL;
	DECLARE n, i INT;
	DECLARE EXIT HANDLER FOR SQLEXCEPTION BEGIN ROLLBACK; RESIGNAL; END;
	SET TRANSACTION ISOLATION LEVEL READ COMMITTED;
	START TRANSACTION;
	SET cur = (SELECT counter FROM {p}factors WHERE user_id = p_user AND id = p_id FOR UPDATE);
	IF cur IS NULL THEN
		ROLLBACK;
		SELECT -1;
	ELSEIF cur <> p_from THEN
		ROLLBACK;
		SELECT 0;
	ELSE
		UPDATE {p}factors SET counter = p_to, last_used_us = p_now_us, data = IF(p_set_data, p_data, data)
			WHERE user_id = p_user AND id = p_id;
		SET n = JSON_LENGTH(p_reset), i = 0;
		WHILE i < n DO
			DELETE FROM {p}counters WHERE counter_key = UNHEX(JSON_UNQUOTE(JSON_EXTRACT(p_reset, CONCAT('$[', i, ']'))));
			SET i = i + 1;
		END WHILE;
		SET n = JSON_LENGTH(p_forgive), i = 0;
		WHILE i < n DO
			-- until_us first: MySQL assigns left to right with the values
			-- already assigned.
			UPDATE {p}counters SET
				until_us = CASE WHEN failures - 1 < CAST(JSON_EXTRACT(p_forgive, CONCAT('$[', i, '][1]')) AS SIGNED) THEN 0 ELSE until_us END,
				failures = failures - 1
				WHERE counter_key = UNHEX(JSON_UNQUOTE(JSON_EXTRACT(p_forgive, CONCAT('$[', i, '][0]'))))
				AND failures > 0 AND (expires_us = 0 OR expires_us > p_now_us);
			SET i = i + 1;
		END WHILE;
		COMMIT;
		SELECT 1;
	END IF;
END;
--}
DROP PROCEDURE IF EXISTS {p}rotate;
--{
-- {p}rotate is Sessions.RotateRefresh: 1 rotated (with the session's new
-- row), 0 unknown, revoked, expired or an unknown hash, 2 a hash this
-- session retired earlier (the session is revoked). The hashes are keyed:
-- comparing them by value leaks nothing an attacker could steer.
CREATE PROCEDURE {p}rotate(IN p_id VARBINARY(512), IN p_old VARBINARY(255), IN p_new VARBINARY(255), IN p_set_data BOOLEAN,
	IN p_data LONGBLOB, IN p_now_us BIGINT, IN p_idle_us BIGINT, IN p_now_ns BIGINT)
BEGIN
	DECLARE cur VARBINARY(255) DEFAULT NULL;
	DECLARE rv BOOLEAN DEFAULT NULL;
	DECLARE ie, xe BIGINT;
	DECLARE EXIT HANDLER FOR SQLEXCEPTION BEGIN ROLLBACK; RESIGNAL; END;
	SET TRANSACTION ISOLATION LEVEL READ COMMITTED;
	START TRANSACTION;
	SELECT refresh, revoked, idle_expires_us, expires_us INTO cur, rv, ie, xe FROM {p}sessions WHERE id = p_id FOR UPDATE;
	IF rv IS NULL OR rv OR p_now_ns >= CAST(ie AS DECIMAL(40, 0)) * 1000 OR p_now_ns >= CAST(xe AS DECIMAL(40, 0)) * 1000 THEN
		ROLLBACK;
		SELECT 0, NULL, NULL, NULL, NULL, 0, 0, 0, 0, FALSE;
	ELSEIF cur = p_old THEN
		INSERT INTO {p}retired_refresh (session_id, token_hash) VALUES (p_id, cur) ON DUPLICATE KEY UPDATE session_id = session_id;
		UPDATE {p}sessions SET refresh = p_new, last_used_us = p_now_us, idle_expires_us = p_idle_us, data = IF(p_set_data, p_data, data)
			WHERE id = p_id;
		COMMIT;
		SELECT 1, id, user_id, refresh, data, created_us, last_used_us, idle_expires_us, expires_us, revoked FROM {p}sessions WHERE id = p_id;
	ELSEIF EXISTS (SELECT 1 FROM {p}retired_refresh WHERE session_id = p_id AND token_hash = p_old) THEN
		UPDATE {p}sessions SET revoked = TRUE WHERE id = p_id;
		DELETE FROM {p}retired_refresh WHERE session_id = p_id;
		COMMIT;
		SELECT 2, NULL, NULL, NULL, NULL, 0, 0, 0, 0, FALSE;
	ELSE
		ROLLBACK;
		SELECT 0, NULL, NULL, NULL, NULL, 0, 0, 0, 0, FALSE;
	END IF;
END;
--}
