-- Current state of each term: the latest complete snapshot plus the events after it (see the
-- clever_current_records macro).
{{ clever_current_records('terms', 'term_id') }}
