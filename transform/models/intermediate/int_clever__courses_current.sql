-- Current state of each course: the latest complete snapshot plus the events after it (see the
-- clever_current_records macro).
{{ clever_current_records('courses', 'course_id') }}
