-- Full-text search of messages (store/src/search.rs): each body's lexemes under the 'simple'
-- configuration (lowercased words, no stemming, no stop words, diacritics kept), computed by the database
-- on every insert and change of the body, so an edit is found by its new words only and a tombstone (its
-- body emptied) by none; a GIN index answers `@@` with prefix lexemes (`'word':*`).
ALTER TABLE messages
    ADD COLUMN search tsvector GENERATED ALWAYS AS (to_tsvector('simple', body)) STORED;
CREATE INDEX messages_search ON messages USING GIN (search);
