"""Field names and enum values of the Clever v3.1 record schemas.

Transcribed from the Events API OpenAPI spec (``components.schemas``), which is the full schema
set shared by the Data API. The generator draws enum values from here and the tests check every
generated record against these key sets and enums, so the sandbox cannot drift from the spec
without a test noticing. ``""`` is a legal value of every validated enum, as the spec says.
"""

from __future__ import annotations

RECORD_TYPES: tuple[str, ...] = (
    "districts",
    "schools",
    "users",
    "sections",
    "terms",
    "courses",
    "resources",
)
"""Data API list endpoints, which are also the event record types."""

USER_ROLES: tuple[str, ...] = ("contact", "district_admin", "staff", "student", "teacher")
"""Values accepted by ``GET /users?role=``."""

EVENT_ACTIONS: tuple[str, ...] = ("created", "updated", "deleted")

GRADES: tuple[str, ...] = (
    "InfantToddler",
    "Preschool",
    "PreKindergarten",
    "TransitionalKindergarten",
    "Kindergarten",
    "1",
    "2",
    "3",
    "4",
    "5",
    "6",
    "7",
    "8",
    "9",
    "10",
    "11",
    "12",
    "13",
    "PostGraduate",
    "Ungraded",
    "Other",
    "",
)
YES_NO: tuple[str, ...] = ("Y", "N", "")
GENDERS: tuple[str, ...] = ("M", "F", "X", "")
RACES: tuple[str, ...] = (
    "Caucasian",
    "Asian",
    "Black or African American",
    "American Indian",
    "Hawaiian or Other Pacific Islander",
    "Two or More Races",
    "Unknown",
    "",
)
FRL_STATUSES: tuple[str, ...] = ("Free", "Reduced", "Paid", "Other", "")
PHONE_TYPES: tuple[str, ...] = ("Cell", "Home", "Work", "Other", "")
RELATIONSHIPS: tuple[str, ...] = (
    "Parent",
    "Grandparent",
    "Self",
    "Aunt/Uncle",
    "Sibling",
    "Other",
    "",
)
RELATIONSHIP_TYPES: tuple[str, ...] = (
    "Parent/Guardian",
    "Emergency",
    "Primary",
    "Secondary",
    "Family",
    "Other",
    "",
)
SUBJECTS: tuple[str, ...] = (
    "english/language arts",
    "math",
    "science",
    "social studies",
    "language",
    "homeroom/advisory",
    "interventions/online learning",
    "technology and engineering",
    "PE and health",
    "arts and music",
    "other",
    "",
)
DISABILITY_CODES: tuple[str, ...] = (
    "aut",
    "db",
    "dd",
    "emn",
    "hi",
    "id",
    "md",
    "oi",
    "other",
    "ohi",
    "sld",
    "sli",
    "tbi",
    "vi",
)
DISABILITY_TYPES: tuple[str, ...] = (
    "Autism",
    "Deaf-blindness",
    "Developmental delay",
    "Emotional disturbance",
    "Hearing impairment",
    "Intellectual Disability",
    "Multiple disabilities",
    "Orthopedic impairment",
    "Other",
    "Other health impairment",
    "Specific learning disability",
    "Speech or language impairment",
    "Traumatic brain injury",
    "Visual impairment",
)
RESOURCE_ROLES: tuple[str, ...] = ("teacher", "student")
DISTRICT_STATES: tuple[str, ...] = ("running", "pending", "error", "paused", "", "success")
LMS_STATES: tuple[str, ...] = (
    "initial_sync_processing",
    "pending_authorization",
    "matching_in_progress",
    "error",
    "disconnected",
    "",
    "success",
)
LMS_TYPES: tuple[str, ...] = ("canvas", "schoology", "google_classroom", "")

HOME_LANGUAGES: tuple[tuple[str, str], ...] = (
    ("English", "eng"),
    ("Spanish", "spa"),
    ("Vietnamese", "vie"),
    ("Mandarin", "cmn"),
    ("Cantonese", "yue"),
    ("Arabic", "ara"),
    ("Somali", "som"),
    ("Hmong", "hmn"),
    ("Korean", "kor"),
    ("Tagalog", "tgl"),
    ("Haitian Creole", "hat"),
    ("Portuguese", "por"),
    ("Russian", "rus"),
    ("French", "fra"),
    ("Japanese", "jpn"),
    ("Karen", "kar"),
    ("Other", "other"),
)
"""A subset of the spec's ``home_language`` / ``home_language_code`` enums, as matching pairs."""

# Key sets: every key a record or sub-object may carry according to the spec.
USER_KEYS = frozenset(
    {"created", "district", "email", "id", "last_modified", "lms_status", "name", "roles"}
)
NAME_KEYS = frozenset({"first", "last", "middle"})
STUDENT_KEYS = frozenset(
    {
        "created",
        "credentials",
        "disability",
        "dob",
        "ell_status",
        "enrollments",
        "ext",
        "frl_status",
        "gender",
        "gifted_status",
        "grade",
        "graduation_year",
        "hispanic_ethnicity",
        "home_language",
        "home_language_code",
        "iep_status",
        "last_modified",
        "legacy_id",
        "location",
        "preferred_name",
        "race",
        "school",
        "schools",
        "section_504_status",
        "sis_id",
        "state_id",
        "student_number",
    }
)
TEACHER_KEYS = frozenset(
    {
        "created",
        "credentials",
        "district",
        "ext",
        "last_modified",
        "legacy_id",
        "name",
        "school",
        "schools",
        "sis_id",
        "state_id",
        "teacher_number",
        "title",
    }
)
STAFF_KEYS = frozenset(
    {"credentials", "department", "ext", "legacy_id", "roles", "schools", "staff_id", "title"}
)
CONTACT_KEYS = frozenset({"legacy_id", "phone", "phone_type", "sis_id", "student_relationships"})
CONTACT_V2_KEYS = frozenset({"relationship", "type", "students"})
"""Keys of the older v2 contact shape, seen next to an empty ``student_relationships`` list."""
DISTRICT_ADMIN_KEYS = frozenset({"legacy_id", "title"})
ROLE_KEYS = {
    "student": STUDENT_KEYS,
    "teacher": TEACHER_KEYS,
    "staff": STAFF_KEYS,
    "contact": CONTACT_KEYS | CONTACT_V2_KEYS,
    "district_admin": DISTRICT_ADMIN_KEYS,
}
STUDENT_RELATIONSHIP_KEYS = frozenset({"relationship", "student", "type"})
ENROLLMENT_KEYS = frozenset({"end_date", "school", "start_date"})
CREDENTIALS_KEYS = frozenset({"district_username"})
DISABILITY_KEYS = frozenset({"disability_code", "disability_status", "disability_type"})
LOCATION_KEYS = frozenset({"address", "city", "lat", "lon", "state", "zip"})
LMS_STATUS_KEYS = frozenset({"synced_in_lms"})
SECTION_KEYS = frozenset(
    {
        "course",
        "created",
        "district",
        "ext",
        "grade",
        "id",
        "last_modified",
        "lms_status",
        "name",
        "period",
        "school",
        "section_number",
        "sis_id",
        "students",
        "subject",
        "teacher",
        "teachers",
        "term_id",
    }
)
SCHOOL_KEYS = frozenset(
    {
        "created",
        "district",
        "ext",
        "high_grade",
        "id",
        "last_modified",
        "location",
        "low_grade",
        "mdr_number",
        "name",
        "nces_id",
        "phone",
        "principal",
        "school_number",
        "sis_id",
        "state_id",
    }
)
PRINCIPAL_KEYS = frozenset({"email", "name"})
DISTRICT_KEYS = frozenset(
    {
        "district_contact",
        "error",
        "id",
        "last_attendance_sync",
        "last_sync",
        "launch_date",
        "lms_state",
        "lms_type",
        "login_methods",
        "mdr_number",
        "name",
        "nces_id",
        "pause_end",
        "pause_start",
        "portal_url",
        "sis_type",
        "state",
    }
)
DISTRICT_CONTACT_KEYS = frozenset({"district", "email", "id", "name", "title"})
TERM_KEYS = frozenset({"district", "end_date", "id", "name", "start_date"})
COURSE_KEYS = frozenset({"district", "id", "name", "number"})
RESOURCE_KEYS = frozenset({"created", "district", "id", "resource_id", "roles", "title", "updated"})
RECORD_KEYS = {
    "districts": DISTRICT_KEYS,
    "schools": SCHOOL_KEYS,
    "users": USER_KEYS,
    "sections": SECTION_KEYS,
    "terms": TERM_KEYS,
    "courses": COURSE_KEYS,
    "resources": RESOURCE_KEYS,
}
