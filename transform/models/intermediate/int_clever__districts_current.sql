-- Current state of each district: the latest complete snapshot plus the events after it (see the
-- clever_current_records macro).
{{ clever_current_records('districts', 'district_id') }}
