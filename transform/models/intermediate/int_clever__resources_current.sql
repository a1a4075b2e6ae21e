-- Current state of each resource: the latest complete snapshot plus the events after it (see the
-- clever_current_records macro).
{{ clever_current_records('resources', 'resource_id') }}
