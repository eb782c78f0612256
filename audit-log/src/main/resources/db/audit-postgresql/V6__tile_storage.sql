-- Tile hashes are random bytes: never try to compress them (pglz would, on every rewrite of a
-- growing tile), but keep them out of line like any large value.
ALTER TABLE tiles ALTER COLUMN hashes SET STORAGE EXTERNAL;
