-- Current state of each section: the latest complete snapshot plus the events after it (see the
-- clever_current_records macro).
{{ clever_current_records('sections', 'section_id') }}
