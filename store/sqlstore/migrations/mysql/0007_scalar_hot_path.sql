-- Version 7: the common case of the hot path without JSON. A successful
-- verification finds its counters missing (the previous success deleted
-- them) and resets them all with nothing to forgive; for up to three
-- distinct counters the code now calls {p}hit_new and {p}advance_keys,
-- which take the keys and values as plain parameters and run a handful
-- of statements, where {p}hit and {p}advance parse a JSON argument and
-- loop over it. Every other case still calls {p}hit and {p}advance.
DROP PROCEDURE IF EXISTS {p}hit_new;
--{
-- {p}hit_new is Counters.Hit when every counter is expected to be
-- missing: p_n (1 to 3) distinct keys, each with its state after one
-- failure from the zero state (store.Rule.Apply, computed by the caller),
-- inserted by one statement. A missing counter has the zero state, which
-- blocks nothing, so when the insert succeeds the attempt is admitted and
-- counted, and the factor is read after the commit. When any key exists
-- the insert fails whole (a duplicate key), nothing is written, and the
-- general {p}hit decides with p_counters (its JSON argument) instead.
CREATE PROCEDURE {p}hit_new(IN p_n INT,
	IN p_k1 VARBINARY(1024), IN p_u1 BIGINT, IN p_e1 BIGINT,
	IN p_k2 VARBINARY(1024), IN p_u2 BIGINT, IN p_e2 BIGINT,
	IN p_k3 VARBINARY(1024), IN p_u3 BIGINT, IN p_e3 BIGINT,
	IN p_counters LONGTEXT, IN p_now_ns BIGINT, IN p_user VARBINARY(512), IN p_id VARBINARY(512))
BEGIN
	DECLARE dup BOOLEAN DEFAULT FALSE;
	-- A handler for the error number wins over one for its class.
	DECLARE CONTINUE HANDLER FOR 1062 SET dup = TRUE;
	DECLARE EXIT HANDLER FOR SQLEXCEPTION BEGIN ROLLBACK; RESIGNAL; END;
	SET TRANSACTION ISOLATION LEVEL READ COMMITTED;
	START TRANSACTION;
	IF p_n = 1 THEN
		INSERT INTO {p}counters (counter_key, failures, until_us, expires_us) VALUES (p_k1, 1, p_u1, p_e1);
	ELSEIF p_n = 2 THEN
		INSERT INTO {p}counters (counter_key, failures, until_us, expires_us) VALUES (p_k1, 1, p_u1, p_e1), (p_k2, 1, p_u2, p_e2);
	ELSE
		INSERT INTO {p}counters (counter_key, failures, until_us, expires_us) VALUES (p_k1, 1, p_u1, p_e1), (p_k2, 1, p_u2, p_e2), (p_k3, 1, p_u3, p_e3);
	END IF;
	IF dup THEN
		ROLLBACK;
		CALL {p}hit(p_counters, p_now_ns, p_user, p_id);
	ELSE
		COMMIT;
		SELECT TRUE, FALSE, 0, f.user_id, f.id, f.kind, f.name, f.status, f.lookup, f.secret, f.data,
			f.counter, f.created_us, f.confirmed_us, f.last_used_us
			FROM (SELECT 1 AS one) AS o LEFT JOIN {p}factors f ON f.user_id = p_user AND f.id = p_id;
	END IF;
END;
--}
DROP PROCEDURE IF EXISTS {p}advance_keys;
--{
-- {p}advance_keys is Factors.Advance that resets up to three counters
-- (p_k2 and p_k3 may be NULL) and forgives none: 1 done, 0 a lost
-- compare, -1 no such factor. The compare-and-set is the UPDATE's WHERE:
-- at READ COMMITTED, InnoDB waits for a concurrent writer of the row and
-- checks the condition again against what it committed, so of two calls
-- with the same p_from exactly one matches. An UPDATE that changed no row
-- reads the row under lock to tell a lost compare, a missing factor and a
-- match that changed nothing (p_to = p_from, the same instant) apart.
CREATE PROCEDURE {p}advance_keys(IN p_user VARBINARY(512), IN p_id VARBINARY(512), IN p_from BIGINT, IN p_to BIGINT,
	IN p_now_us BIGINT, IN p_set_data BOOLEAN, IN p_data LONGBLOB,
	IN p_k1 VARBINARY(1024), IN p_k2 VARBINARY(1024), IN p_k3 VARBINARY(1024))
BEGIN
	DECLARE cur BIGINT DEFAULT NULL;
	DECLARE EXIT HANDLER FOR SQLEXCEPTION BEGIN ROLLBACK; RESIGNAL; END;
	SET TRANSACTION ISOLATION LEVEL READ COMMITTED;
	START TRANSACTION;
	UPDATE {p}factors SET counter = p_to, last_used_us = p_now_us, data = IF(p_set_data, p_data, data)
		WHERE user_id = p_user AND id = p_id AND counter = p_from;
	IF ROW_COUNT() = 0 THEN
		SET cur = (SELECT counter FROM {p}factors WHERE user_id = p_user AND id = p_id FOR UPDATE);
	ELSE
		SET cur = p_from;
	END IF;
	IF cur IS NULL THEN
		ROLLBACK;
		SELECT -1;
	ELSEIF cur <> p_from THEN
		ROLLBACK;
		SELECT 0;
	ELSE
		DELETE FROM {p}counters WHERE counter_key IN (p_k1, p_k2, p_k3);
		COMMIT;
		SELECT 1;
	END IF;
END;
--}
