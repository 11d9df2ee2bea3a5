-- A finding is one per rule and clause; it keeps every matching sentence (JSON list of
-- {start, end, excerpt}) and the line citing the documents it rests on, by title and article.
ALTER TABLE findings ADD COLUMN spans TEXT NOT NULL DEFAULT '[]';
ALTER TABLE findings ADD COLUMN citation TEXT NOT NULL DEFAULT '';
