-- Version 5: signals (store.Signals), short expiring lists of recent
-- activity. A record is one row, keyed by its list and an insertion
-- sequence; a list's order is (time_us, seq), so records of equal times
-- keep the order they were added in. signal_lists holds one row per list
-- that has been written: Observe locks it, so concurrent calls on one
-- list take turns, and its expires_us (the latest expiry of the list's
-- records, 0 when it has none) lets Sweep remove it once nothing in it
-- is live. Keys are BYTEA: opaque bytes, NUL and invalid UTF-8 included.
CREATE TABLE IF NOT EXISTS {p}signals (
	list_key BYTEA NOT NULL,
	seq BIGINT GENERATED ALWAYS AS IDENTITY,
	time_us BIGINT NOT NULL,
	expires_us BIGINT NOT NULL,
	data BYTEA NOT NULL,
	PRIMARY KEY (list_key, seq)
);
CREATE INDEX IF NOT EXISTS {p}signals_list ON {p}signals (list_key, time_us, seq);
CREATE INDEX IF NOT EXISTS {p}signals_expires ON {p}signals (expires_us);
CREATE TABLE IF NOT EXISTS {p}signal_lists (
	list_key BYTEA PRIMARY KEY,
	expires_us BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS {p}signal_lists_expires ON {p}signal_lists (expires_us);
--{
-- {p}observe is Signals.Observe. p_lists is a JSON array of the call's
-- distinct lists, sorted by key, each [hex key, 1 if a sighting adds to
-- it]; p_sightings a JSON array of [list index, keep, 1 to add, time us,
-- expires us, hex data], in the call's order. Every list is locked first,
-- in key order, so two calls never wait for each other in a cycle: a list
-- added to gets its row (inserted if missing), a list only read is locked
-- if it has one. Then each sighting in turn drops the list's records
-- expired at p_now, adds its record, trims the list to its keep newest
-- and returns the list, oldest first, as rows numbered by the sighting.
-- A list only read that has no row has no records to drop or trim (Sweep
-- removes a row only once all of its records have expired), so it is
-- read without a lock.
CREATE OR REPLACE FUNCTION {p}observe(p_lists jsonb, p_sightings jsonb, p_now bigint)
RETURNS TABLE (o_idx integer, o_time_us bigint, o_expires_us bigint, o_data bytea)
LANGUAGE plpgsql AS $$
DECLARE
	n integer := jsonb_array_length(p_lists);
	m integer := jsonb_array_length(p_sightings);
	keys bytea[] := '{}';
	held boolean[] := '{}';
	e jsonb;
	k bytea;
	j integer;
	keep integer;
BEGIN
	FOR j IN 0 .. n - 1 LOOP
		e := p_lists -> j;
		k := decode(e->>0, 'hex');
		keys := array_append(keys, k);
		IF (e->>1)::integer = 1 THEN
			INSERT INTO {p}signal_lists AS l (list_key, expires_us) VALUES (k, 0)
				ON CONFLICT (list_key) DO UPDATE SET expires_us = l.expires_us;
			held := array_append(held, true);
		ELSE
			PERFORM 1 FROM {p}signal_lists l WHERE l.list_key = k FOR UPDATE;
			held := array_append(held, FOUND);
		END IF;
	END LOOP;
	FOR j IN 0 .. m - 1 LOOP
		e := p_sightings -> j;
		k := keys[(e->>0)::integer + 1];
		keep := (e->>1)::integer;
		IF held[(e->>0)::integer + 1] THEN
			DELETE FROM {p}signals x WHERE x.list_key = k AND x.expires_us <= p_now;
			IF (e->>2)::integer = 1 THEN
				INSERT INTO {p}signals (list_key, time_us, expires_us, data)
					VALUES (k, (e->>3)::bigint, (e->>4)::bigint, decode(e->>5, 'hex'));
			END IF;
			DELETE FROM {p}signals x WHERE x.list_key = k AND x.seq IN (
				SELECT y.seq FROM {p}signals y WHERE y.list_key = k ORDER BY y.time_us DESC, y.seq DESC OFFSET keep);
			UPDATE {p}signal_lists l SET expires_us = COALESCE((SELECT max(x.expires_us) FROM {p}signals x WHERE x.list_key = k), 0)
				WHERE l.list_key = k;
		END IF;
		RETURN QUERY SELECT j, y.time_us, y.expires_us, y.data FROM (
			SELECT x.time_us, x.expires_us, x.data, x.seq FROM {p}signals x
			WHERE x.list_key = k AND x.expires_us > p_now
			ORDER BY x.time_us DESC, x.seq DESC LIMIT keep) y
			ORDER BY y.time_us, y.seq;
	END LOOP;
END
$$;
--}
