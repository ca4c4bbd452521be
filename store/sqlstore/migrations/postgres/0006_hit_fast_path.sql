-- Version 6: a fast path in {p}hit (Counters.Hit). After a success the
-- Verifier's counters are gone, so the next attempt used to insert a zero
-- placeholder per counter, lock it, read it and update it: four
-- statements each. Now the missing counters are inserted at once with
-- their state after one failure; only counters that existed are locked,
-- decided and written one by one as before. Same arguments, same
-- decisions, same results.
--{
-- {p}hit is Counters.Hit: p_counters is a JSON array of
-- [hex key, free, base ns, max ns, cap, ttl ns], sorted by key. A counter
-- inserted by the fast path had the zero state, which blocks nothing;
-- every other row is locked (a zero placeholder is inserted for one
-- deleted meanwhile) before anything is decided, then store.Rule.Blocked
-- decides and, if nothing blocks, store.Rule.Apply is written; a refusal
-- deletes the rows it inserted. Times compare in nanoseconds as the Go
-- code does.
CREATE OR REPLACE FUNCTION {p}hit(p_counters jsonb, p_now_ns bigint)
RETURNS TABLE (admitted boolean, locked boolean, retry_us bigint)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
	e jsonb;
	k text;
	fresh boolean;
	mine text[] := '{}';
	new_keys text[];
	done text[] := '{}';
	cur record;
	blocked boolean := false;
	hard boolean := false;
	retry bigint := 0;
	fails integer;
	unt bigint;
	exp bigint;
	d numeric;
	i integer;
	fr integer;
	base numeric;
	mx numeric;
	ttl numeric;
BEGIN
	-- The fast path: a counter that does not exist has the zero state,
	-- which blocks nothing, so each missing counter is inserted with its
	-- state after one failure (store.Rule.Apply from zero), which also
	-- locks it. When every counter was missing, as after a success, that
	-- is the whole decision and count: one statement.
	WITH x AS (
		SELECT convert_from(decode(e->>0, 'hex'), 'UTF8') AS k, (e->>1)::integer AS fr,
			(e->>2)::numeric AS base, (e->>3)::numeric AS mx, (e->>5)::numeric AS ttl
		FROM jsonb_array_elements(p_counters) AS e
	), ins AS (
		INSERT INTO {p}counters AS c (counter_key, failures, until_us, expires_us)
		SELECT x.k, 1,
			CASE WHEN x.fr = 1 THEN LEAST(div(p_now_ns + CASE WHEN x.base <= 0 THEN 0 WHEN x.mx > 0 AND x.base > x.mx THEN x.mx ELSE x.base END, 1000), 9223372036854775807) ELSE 0 END,
			CASE WHEN x.ttl > 0 THEN LEAST(div(p_now_ns + x.ttl, 1000), 9223372036854775807) ELSE 0 END
		FROM x ORDER BY x.k
		ON CONFLICT (counter_key) DO NOTHING
		RETURNING c.counter_key
	)
	SELECT array_agg(ins.counter_key) INTO new_keys FROM ins;
	new_keys := COALESCE(new_keys, '{}');
	IF cardinality(new_keys) = jsonb_array_length(p_counters) THEN
		RETURN QUERY SELECT true, false, 0::bigint;
		RETURN;
	END IF;
	-- Otherwise the counters that existed (or a key named twice) are
	-- locked and decided as before; the new ones had the zero state.
	FOR e IN SELECT x FROM jsonb_array_elements(p_counters) AS x LOOP
		k := convert_from(decode(e->>0, 'hex'), 'UTF8');
		IF k = ANY (new_keys) THEN
			CONTINUE;
		END IF;
		fresh := NULL;
		INSERT INTO {p}counters (counter_key, failures, until_us, expires_us) VALUES (k, 0, 0, 0)
			ON CONFLICT (counter_key) DO NOTHING RETURNING true INTO fresh;
		IF fresh THEN
			mine := mine || k;
		END IF;
		SELECT c.failures, c.until_us, c.expires_us INTO cur FROM {p}counters c WHERE c.counter_key = k FOR UPDATE;
		IF cur.expires_us <> 0 AND p_now_ns >= cur.expires_us::numeric * 1000 THEN
			CONTINUE; -- forgotten
		ELSIF (e->>4)::integer > 0 AND cur.failures >= (e->>4)::integer THEN
			blocked := true;
			hard := true;
		ELSIF p_now_ns < cur.until_us::numeric * 1000 THEN
			blocked := true;
			IF cur.until_us > retry THEN
				retry := cur.until_us;
			END IF;
		END IF;
	END LOOP;
	IF blocked THEN
		DELETE FROM {p}counters WHERE counter_key = ANY (mine || new_keys);
		IF hard THEN
			retry := 0;
		END IF;
		RETURN QUERY SELECT false, hard, retry;
		RETURN;
	END IF;
	FOR e IN SELECT x FROM jsonb_array_elements(p_counters) AS x LOOP
		k := convert_from(decode(e->>0, 'hex'), 'UTF8');
		IF k = ANY (new_keys) AND NOT k = ANY (done) THEN
			done := done || k; -- counted by the fast path
			CONTINUE;
		END IF;
		fr := (e->>1)::integer;
		base := (e->>2)::numeric;
		mx := (e->>3)::numeric;
		ttl := (e->>5)::numeric;
		SELECT c.failures, c.until_us, c.expires_us INTO cur FROM {p}counters c WHERE c.counter_key = k;
		IF cur.expires_us <> 0 AND p_now_ns >= cur.expires_us::numeric * 1000 THEN
			fails := 0; unt := 0; exp := 0;
		ELSE
			fails := cur.failures; unt := cur.until_us; exp := cur.expires_us;
		END IF;
		fails := fails + 1;
		IF fr > 0 AND fails >= fr THEN
			d := 0;
			IF base > 0 THEN
				d := base;
				i := fr;
				WHILE i < fails LOOP
					EXIT WHEN mx > 0 AND d >= mx;
					IF d > 4611686018427387903 THEN
						d := 9223372036854775807;
						EXIT;
					END IF;
					d := d * 2;
					i := i + 1;
				END LOOP;
				IF mx > 0 AND d > mx THEN
					d := mx;
				END IF;
			END IF;
			unt := LEAST(div(p_now_ns + d, 1000), 9223372036854775807);
		END IF;
		IF ttl > 0 THEN
			exp := LEAST(div(p_now_ns + ttl, 1000), 9223372036854775807);
		END IF;
		UPDATE {p}counters SET failures = fails, until_us = unt, expires_us = exp WHERE counter_key = k;
	END LOOP;
	RETURN QUERY SELECT true, false, 0::bigint;
END
$$;
--}
