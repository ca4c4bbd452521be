-- Version 8: a leaner {p}hit_new. Its one multi-row INSERT is atomic on
-- its own (a duplicate key undoes the whole statement), so it now runs in
-- autocommit without SET TRANSACTION, START TRANSACTION and COMMIT around
-- it, and the factor is read without a join: three statements fewer
-- inside the procedure for every successful verification. Same
-- parameters, same decisions.
DROP PROCEDURE IF EXISTS {p}hit_new;
--{
-- {p}hit_new is Counters.Hit when every counter is expected to be
-- missing: p_n (1 to 3) distinct keys, each with its state after one
-- failure from the zero state (store.Rule.Apply, computed by the caller),
-- inserted by one statement. A missing counter has the zero state, which
-- blocks nothing, so when the insert succeeds the attempt is admitted and
-- counted, and the factor is read: one row, or none when it does not
-- exist (the caller reads no row as admitted, factor not found). When any
-- key exists the insert fails whole (a duplicate key), nothing is
-- written, and the general {p}hit decides with p_counters (its JSON
-- argument) instead, in a transaction of its own.
--
-- The insert commits as a statement of its own, as every statement the
-- store runs outside a transaction does: the store needs autocommit on,
-- the server's default.
CREATE PROCEDURE {p}hit_new(IN p_n INT,
	IN p_k1 VARBINARY(1024), IN p_u1 BIGINT, IN p_e1 BIGINT,
	IN p_k2 VARBINARY(1024), IN p_u2 BIGINT, IN p_e2 BIGINT,
	IN p_k3 VARBINARY(1024), IN p_u3 BIGINT, IN p_e3 BIGINT,
	IN p_counters LONGTEXT, IN p_now_ns BIGINT, IN p_user VARBINARY(512), IN p_id VARBINARY(512))
BEGIN
	DECLARE dup BOOLEAN DEFAULT FALSE;
	-- A handler for the error number wins over one for its class.
	DECLARE CONTINUE HANDLER FOR 1062 SET dup = TRUE;
	IF p_n = 1 THEN
		INSERT INTO {p}counters (counter_key, failures, until_us, expires_us) VALUES (p_k1, 1, p_u1, p_e1);
	ELSEIF p_n = 2 THEN
		INSERT INTO {p}counters (counter_key, failures, until_us, expires_us) VALUES (p_k1, 1, p_u1, p_e1), (p_k2, 1, p_u2, p_e2);
	ELSE
		INSERT INTO {p}counters (counter_key, failures, until_us, expires_us) VALUES (p_k1, 1, p_u1, p_e1), (p_k2, 1, p_u2, p_e2), (p_k3, 1, p_u3, p_e3);
	END IF;
	IF dup THEN
		CALL {p}hit(p_counters, p_now_ns, p_user, p_id);
	ELSE
		SELECT TRUE, FALSE, 0, f.user_id, f.id, f.kind, f.name, f.status, f.lookup, f.secret, f.data,
			f.counter, f.created_us, f.confirmed_us, f.last_used_us
			FROM {p}factors f WHERE f.user_id = p_user AND f.id = p_id;
	END IF;
END;
--}
