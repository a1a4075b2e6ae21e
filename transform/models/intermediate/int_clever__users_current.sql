-- Current state of each user: the latest complete snapshot plus the events after it (see the
-- clever_current_records macro).
{{ clever_current_records('users', 'user_id') }}
