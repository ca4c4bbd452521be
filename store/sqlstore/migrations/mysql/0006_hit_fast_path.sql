-- Version 6: {p}hit (Counters.Hit) reads each counter with one locking
-- read and, when it is missing (as after a success, which deletes the
-- Verifier's counters), inserts it with its state after one failure at
-- once. It used to insert a zero placeholder, lock it, read it again and
-- update it: four statements per counter where a missing one now takes
-- two. Same arguments, same decisions, same results.
DROP PROCEDURE IF EXISTS {p}hit;
--{
-- {p}hit is Counters.Hit: p_counters is a JSON array of
-- [hex key, free, base ns, max ns, cap, ttl ns], sorted by key. Every
-- existing row is locked and read before anything is decided; a missing
-- one has the zero state, which blocks nothing, and is inserted with
-- store.Rule.Apply of it (which locks the new row). Then store.Rule.Blocked
-- decides and, if nothing blocks, store.Rule.Apply is written to the rows
-- that existed; a refusal rolls back. The factor is read after the
-- commit, when the attempt was admitted. isnew records which counters were
-- inserted; a key named twice is next to itself in the sorted list, and
-- its second mention sees the first one's count.
CREATE PROCEDURE {p}hit(IN p_counters LONGTEXT, IN p_now_ns BIGINT, IN p_user VARBINARY(512), IN p_id VARBINARY(512))
BEGIN
	DECLARE n, i, fr, cp, fails INT;
	DECLARE k, prevk VARBINARY(1024);
	DECLARE unt, xp, retry BIGINT;
	DECLARE d, base, mx, ttl DECIMAL(40, 0);
	DECLARE blocked, hard, prevnew, dup BOOLEAN DEFAULT FALSE;
	DECLARE j INT;
	DECLARE isnew TEXT DEFAULT '';
	DECLARE EXIT HANDLER FOR SQLEXCEPTION BEGIN ROLLBACK; RESIGNAL; END;
	SET retry = 0;
	SET n = JSON_LENGTH(p_counters);
	SET TRANSACTION ISOLATION LEVEL READ COMMITTED;
	START TRANSACTION;
	SET i = 0;
	WHILE i < n DO
		SET k = UNHEX(JSON_UNQUOTE(JSON_EXTRACT(p_counters, CONCAT('$[', i, '][0]'))));
		SET cp = CAST(JSON_EXTRACT(p_counters, CONCAT('$[', i, '][4]')) AS SIGNED);
		SET fails = NULL;
		SET fails = (SELECT failures FROM {p}counters WHERE counter_key = k FOR UPDATE);
		IF fails IS NULL THEN
			SET fr = CAST(JSON_EXTRACT(p_counters, CONCAT('$[', i, '][1]')) AS SIGNED);
			SET base = CAST(JSON_EXTRACT(p_counters, CONCAT('$[', i, '][2]')) AS SIGNED);
			SET mx = CAST(JSON_EXTRACT(p_counters, CONCAT('$[', i, '][3]')) AS SIGNED);
			SET ttl = CAST(JSON_EXTRACT(p_counters, CONCAT('$[', i, '][5]')) AS SIGNED);
			SET d = IF(base <= 0, 0, IF(mx > 0 AND base > mx, mx, base));
			BEGIN
				DECLARE CONTINUE HANDLER FOR 1062 SET dup = TRUE;
				INSERT INTO {p}counters (counter_key, failures, until_us, expires_us)
					VALUES (k, 1, IF(fr = 1, LEAST((p_now_ns + d) DIV 1000, 9223372036854775807), 0),
						IF(ttl > 0, LEAST((p_now_ns + ttl) DIV 1000, 9223372036854775807), 0));
			END;
			IF dup THEN
				-- Another attempt inserted it meanwhile: start again, as
				-- after a deadlock (the caller retries those).
				SIGNAL SQLSTATE '40001' SET MYSQL_ERRNO = 1213, MESSAGE_TEXT = 'mfa: counter inserted by a concurrent attempt';
			END IF;
			SET isnew = CONCAT(isnew, '1'), prevk = k, prevnew = TRUE;
		ELSE
			SET isnew = CONCAT(isnew, '0');
			IF prevnew AND k = prevk THEN
				SET fails = NULL; -- the zero state, counted once already
			ELSE
				SET prevk = k, prevnew = FALSE;
				SELECT failures, until_us, expires_us INTO fails, unt, xp FROM {p}counters WHERE counter_key = k;
			END IF;
			IF fails IS NULL OR (xp <> 0 AND p_now_ns >= CAST(xp AS DECIMAL(40, 0)) * 1000) THEN
				SET fails = 0; -- zero or forgotten
			ELSEIF cp > 0 AND fails >= cp THEN
				SET blocked = TRUE, hard = TRUE;
			ELSEIF p_now_ns < CAST(unt AS DECIMAL(40, 0)) * 1000 THEN
				SET blocked = TRUE;
				IF unt > retry THEN
					SET retry = unt;
				END IF;
			END IF;
		END IF;
		SET i = i + 1;
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
			IF SUBSTRING(isnew, i + 1, 1) = '0' THEN
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
			END IF;
			SET i = i + 1;
		END WHILE;
		COMMIT;
		SELECT TRUE, FALSE, 0, f.user_id, f.id, f.kind, f.name, f.status, f.lookup, f.secret, f.data,
			f.counter, f.created_us, f.confirmed_us, f.last_used_us
			FROM (SELECT 1 AS one) AS o LEFT JOIN {p}factors f ON f.user_id = p_user AND f.id = p_id;
	END IF;
END;
--}
