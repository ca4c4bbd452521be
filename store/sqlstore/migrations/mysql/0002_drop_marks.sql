-- Version 2: the marks table goes with the Marks concern, which had no
-- caller. Its index goes with it. IF EXISTS keeps the statement safe to run
-- again if a migration is cut short.
DROP TABLE IF EXISTS {p}marks;
