-- Current state of each school: the latest complete snapshot plus the events after it (see the
-- clever_current_records macro).
{{ clever_current_records('schools', 'school_id') }}
