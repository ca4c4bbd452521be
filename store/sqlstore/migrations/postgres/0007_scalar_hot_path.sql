-- Version 7: the common case of Counters.Hit without JSON. A successful
-- verification finds its counters missing (the previous success deleted
-- them); for up to three distinct counters the code now calls
-- {p}hit_new, which takes the keys and their states after one failure
-- as arrays and returns one value, where {p}hit parses a JSON argument
-- and returns a set. Every other case still calls {p}hit.
--{
-- {p}hit_new is Counters.Hit when every counter is expected to be
-- missing: p_keys distinct and sorted as the caller sorts them, each with
-- its state after one failure from the zero state (store.Rule.Apply,
-- computed by the caller). A missing counter has the zero state, which
-- blocks nothing, so when every key is inserted the attempt is admitted
-- and counted: 0. When any key exists, the rows just inserted are
-- deleted again (this transaction holds them, no one else has seen them)
-- and the general {p}hit decides with p_counters, its JSON argument; its
-- result comes back as 0 admitted, -1 locked, or the instant to retry
-- after in microseconds (always positive).
CREATE OR REPLACE FUNCTION {p}hit_new(p_keys text[], p_until bigint[], p_expires bigint[], p_counters text, p_now_ns bigint)
RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
	new_keys text[];
	r record;
BEGIN
	WITH ins AS (
		INSERT INTO {p}counters AS c (counter_key, failures, until_us, expires_us)
		SELECT x.k, 1, x.u, x.e FROM unnest(p_keys, p_until, p_expires) AS x(k, u, e)
		ON CONFLICT (counter_key) DO NOTHING
		RETURNING c.counter_key
	)
	SELECT array_agg(ins.counter_key) INTO new_keys FROM ins;
	IF cardinality(new_keys) = cardinality(p_keys) THEN
		RETURN 0;
	END IF;
	IF new_keys IS NOT NULL THEN
		DELETE FROM {p}counters WHERE counter_key = ANY (new_keys);
	END IF;
	SELECT h.admitted, h.locked, h.retry_us INTO r FROM {p}hit(p_counters::jsonb, p_now_ns) h;
	IF r.admitted THEN
		RETURN 0;
	ELSIF r.locked THEN
		RETURN -1;
	END IF;
	RETURN GREATEST(r.retry_us, 1); -- never 0, which admits
END
$$;
--}
