-- The Observation combo-* rows deleted on the way up are not rebuilt: a server that reads
-- them again finds an Observation by a combo-* parameter once it is written anew.
SELECT 1;
