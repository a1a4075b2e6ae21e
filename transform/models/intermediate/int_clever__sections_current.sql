-- Current state of each section: the latest complete snapshot plus the events after it, built
-- incrementally (see the clever_current_records macro).
{{ config(unique_key='section_id') }}
{{ clever_current_records('sections', 'section_id') }}
