-- Current state of each user: the latest complete snapshot plus the events after it, built
-- incrementally (see the clever_current_records macro).
{{ config(unique_key='user_id') }}
{{ clever_current_records('users', 'user_id') }}
