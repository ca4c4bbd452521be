-- Version 3: an index on every expiry column, so Sweep deletes in small
-- batches without scanning whole tables; and the three routines of the
-- hot path (Hit, Advance's forgiving lives in its one statement, and
-- RotateRefresh), so each is one statement, one network round trip.
CREATE INDEX IF NOT EXISTS {p}counters_expires ON {p}counters (expires_us) WHERE expires_us <> 0;
CREATE INDEX IF NOT EXISTS {p}sessions_expires ON {p}sessions (expires_us);
CREATE INDEX IF NOT EXISTS {p}sessions_idle_expires ON {p}sessions (idle_expires_us);
--{
-- {p}hit is Counters.Hit: p_counters is a JSON array of
-- [hex key, free, base ns, max ns, cap, ttl ns], sorted by key. Every row
-- is locked (a zero placeholder is inserted for a missing one) before
-- anything is decided, then store.Rule.Blocked decides and, if nothing
-- blocks, store.Rule.Apply is written; a refusal deletes the placeholders
-- it inserted. Times compare in nanoseconds as the Go code does.
CREATE OR REPLACE FUNCTION {p}hit(p_counters jsonb, p_now_ns bigint)
RETURNS TABLE (admitted boolean, locked boolean, retry_us bigint)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
	e jsonb;
	k text;
	fresh boolean;
	mine text[] := '{}';
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
	FOR e IN SELECT x FROM jsonb_array_elements(p_counters) AS x LOOP
		k := convert_from(decode(e->>0, 'hex'), 'UTF8');
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
		DELETE FROM {p}counters WHERE counter_key = ANY (mine);
		IF hard THEN
			retry := 0;
		END IF;
		RETURN QUERY SELECT false, hard, retry;
		RETURN;
	END IF;
	FOR e IN SELECT x FROM jsonb_array_elements(p_counters) AS x LOOP
		k := convert_from(decode(e->>0, 'hex'), 'UTF8');
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
--{
-- {p}rotate is Sessions.RotateRefresh: 1 rotated (the session's new row
-- is returned), 0 unknown, revoked, expired or an unknown hash, 2 a hash
-- this session retired earlier (the session is revoked).
CREATE OR REPLACE FUNCTION {p}rotate(p_id text, p_old bytea, p_new bytea, p_set_data boolean, p_data bytea, p_now_us bigint, p_idle_us bigint, p_now_ns bigint)
RETURNS TABLE (outcome integer, id text, user_id text, refresh bytea, data bytea, created_us bigint, last_used_us bigint, idle_expires_us bigint, expires_us bigint, revoked boolean)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
	x record;
BEGIN
	SELECT * INTO x FROM {p}sessions s WHERE s.id = p_id FOR UPDATE;
	IF NOT FOUND OR x.revoked OR p_now_ns >= x.idle_expires_us::numeric * 1000 OR p_now_ns >= x.expires_us::numeric * 1000 THEN
		RETURN QUERY SELECT 0, NULL::text, NULL::text, NULL::bytea, NULL::bytea, 0::bigint, 0::bigint, 0::bigint, 0::bigint, false;
		RETURN;
	END IF;
	-- The hashes are keyed: comparing them by value leaks nothing an
	-- attacker could steer.
	IF x.refresh = p_old THEN
		INSERT INTO {p}retired_refresh (session_id, token_hash) VALUES (x.id, x.refresh) ON CONFLICT DO NOTHING;
		RETURN QUERY UPDATE {p}sessions s SET refresh = p_new, last_used_us = p_now_us, idle_expires_us = p_idle_us,
			data = CASE WHEN p_set_data THEN p_data ELSE s.data END
			WHERE s.id = x.id
			RETURNING 1, s.id, s.user_id, s.refresh, s.data, s.created_us, s.last_used_us, s.idle_expires_us, s.expires_us, s.revoked;
		RETURN;
	END IF;
	IF EXISTS (SELECT 1 FROM {p}retired_refresh r WHERE r.session_id = x.id AND r.token_hash = p_old) THEN
		UPDATE {p}sessions s SET revoked = true WHERE s.id = x.id;
		DELETE FROM {p}retired_refresh r WHERE r.session_id = x.id;
		RETURN QUERY SELECT 2, NULL::text, NULL::text, NULL::bytea, NULL::bytea, 0::bigint, 0::bigint, 0::bigint, 0::bigint, false;
		RETURN;
	END IF;
	RETURN QUERY SELECT 0, NULL::text, NULL::text, NULL::bytea, NULL::bytea, 0::bigint, 0::bigint, 0::bigint, 0::bigint, false;
END
$$;
--}
