"""Field names and enum values of the Clever v3.1 record schemas.

Transcribed from the Events API OpenAPI spec (``components.schemas``), which is the full schema
set shared by the Data API, and from Clever's data-model pages for which fields are guaranteed.
The generator draws enum values from here, the source-system pass (``source_quirks.py``) reads
the field descriptions, and the tests check every generated record against both, so the sandbox
cannot drift from the spec without a test noticing. ``""`` is a legal value of every validated
enum, as the spec says.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

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

# -- Field descriptions ------------------------------------------------------------------------
# Kinds of value, as the spec types them.
STRING = "string"
ARRAY = "array"
OBJECT = "object"
BOOLEAN = "boolean"
NUMBER = "number"

# Presence of a field.
OPTIONAL = "optional"
"""Not guaranteed: arrives "as it exists in the source system" (a value, null, "" or absent)."""
GUARANTEED = "guaranteed"
"""Guaranteed by Clever's data-model pages: always present and non-null."""
STRUCTURAL = "structural"
"""Not listed as guaranteed, but the record would not be that record without it, so the
source-system pass leaves it as generated: a user's ``roles`` and the role objects it holds (a
user always holds at least one role), a role's ``legacy_id``, a relationship's ``student``."""


@dataclass(frozen=True)
class Field:
    """One field of a record or nested object."""

    kind: str
    presence: str = OPTIONAL
    text: bool = False
    """Free text typed by people (names, titles, addresses): any string at all may turn up."""
    fields: Mapping[str, Field] | None = None
    """OBJECT: its fields (None: free-form, like ``ext``). ARRAY: each object item's fields
    (None: an array of strings)."""

    @property
    def may_be_missing(self) -> bool:
        """Whether the source system may leave it null, empty or out."""
        return self.presence == OPTIONAL


Shape = Mapping[str, Field]
"""Every field a record or nested object may carry, by name."""

_STR = Field(STRING)
_STR_G = Field(STRING, GUARANTEED)
_TEXT = Field(STRING, text=True)
_TEXT_G = Field(STRING, GUARANTEED, text=True)
_KEPT = Field(STRING, STRUCTURAL)
_LIST = Field(ARRAY)
_LIST_G = Field(ARRAY, GUARANTEED)
_EXT = Field(OBJECT)


def _object(fields: Shape, presence: str = OPTIONAL) -> Field:
    return Field(OBJECT, presence, fields=fields)


def _list_of(fields: Shape, presence: str = OPTIONAL) -> Field:
    return Field(ARRAY, presence, fields=fields)


NAME: Shape = {"first": _TEXT_G, "last": _TEXT_G, "middle": _TEXT}
"""A user's ``name``: first and last are guaranteed, except that a contact's full name may be
stored in ``name.last`` alone (``first`` absent or ``""``), as Clever documents."""
PERSON_NAME: Shape = {"first": _TEXT, "last": _TEXT, "middle": _TEXT}
"""``Name``/``PreferredName`` anywhere else: preferred names, teacher and district contact names."""
CREDENTIALS: Shape = {"district_username": _STR}
DISABILITY: Shape = {"disability_code": _STR, "disability_status": _STR, "disability_type": _STR}
LOCATION: Shape = {
    "address": _TEXT,
    "city": _TEXT,
    "lat": _STR,
    "lon": _STR,
    "state": _STR,
    "zip": _STR,
}
LMS_STATUS: Shape = {"synced_in_lms": Field(BOOLEAN)}
ENROLLMENT: Shape = {"end_date": _STR, "school": _STR_G, "start_date": _STR}
STUDENT_RELATIONSHIP: Shape = {"relationship": _STR, "student": _KEPT, "type": _STR}

STUDENT: Shape = {
    "created": _STR,
    "credentials": _object(CREDENTIALS),
    "disability": _object(DISABILITY),
    "dob": _STR,
    "ell_status": _STR,
    "enrollments": _list_of(ENROLLMENT, GUARANTEED),
    "ext": _EXT,
    "frl_status": _STR,
    "gender": _STR,
    "gifted_status": _STR,
    "grade": _STR,
    "graduation_year": _STR,
    "hispanic_ethnicity": _STR,
    "home_language": _STR,
    "home_language_code": _STR,
    "iep_status": _STR,
    "last_modified": _STR,
    "legacy_id": _KEPT,
    "location": _object(LOCATION),
    "preferred_name": _object(PERSON_NAME),
    "race": _STR,
    "school": _STR_G,
    "schools": _LIST_G,
    "section_504_status": _STR,
    "sis_id": _STR_G,
    "state_id": _STR,
    "student_number": _STR,
}
TEACHER: Shape = {
    "created": _STR,
    "credentials": _object(CREDENTIALS),
    "district": _STR,
    "ext": _EXT,
    "last_modified": _STR,
    "legacy_id": _KEPT,
    "name": _object(PERSON_NAME),
    "school": _STR,
    "schools": _LIST,
    "sis_id": _STR,
    "state_id": _STR,
    "teacher_number": _STR,
    "title": _TEXT,
}
STAFF: Shape = {
    "credentials": _object(CREDENTIALS),
    "department": _TEXT,
    "ext": _EXT,
    "legacy_id": _KEPT,
    "roles": _LIST,
    "schools": _LIST,
    "staff_id": _STR,
    "title": _TEXT,
}
CONTACT: Shape = {
    "legacy_id": _KEPT,
    "phone": _STR,
    "phone_type": _STR,
    "sis_id": _STR,
    "student_relationships": _list_of(STUDENT_RELATIONSHIP),
    # The older v2 shape, seen next to an empty ``student_relationships`` list.
    "relationship": _STR,
    "students": _LIST,
    "type": _STR,
}
DISTRICT_ADMIN: Shape = {"legacy_id": _KEPT, "title": _TEXT}
ROLE_SHAPES: dict[str, Shape] = {
    "contact": CONTACT,
    "district_admin": DISTRICT_ADMIN,
    "staff": STAFF,
    "student": STUDENT,
    "teacher": TEACHER,
}
ROLES: Shape = {name: _object(shape, STRUCTURAL) for name, shape in ROLE_SHAPES.items()}
USER: Shape = {
    "created": _STR_G,
    "district": _STR_G,
    "email": _STR,
    "id": _STR_G,
    "last_modified": _STR_G,
    "lms_status": _object(LMS_STATUS),
    "name": _object(NAME, GUARANTEED),
    "roles": _object(ROLES, STRUCTURAL),
}
SECTION: Shape = {
    "course": _STR,
    "created": _STR_G,
    "district": _STR_G,
    "ext": _EXT,
    "grade": _STR,
    "id": _STR_G,
    "last_modified": _STR_G,
    "lms_status": _object(LMS_STATUS),
    "name": _TEXT_G,
    "period": _STR,
    "school": _STR_G,
    "section_number": _STR,
    "sis_id": _STR_G,
    "students": _LIST_G,
    "subject": _STR_G,  # guaranteed, but may be ""
    "teacher": _STR_G,
    "teachers": _LIST_G,  # primary teacher first
    "term_id": _STR,
}
PRINCIPAL: Shape = {"email": _STR, "name": _TEXT}
SCHOOL: Shape = {
    "created": _STR_G,
    "district": _STR_G,
    "ext": _EXT,
    "high_grade": _STR,
    "id": _STR_G,
    "last_modified": _STR_G,
    "location": _object(LOCATION),
    "low_grade": _STR,
    "mdr_number": _STR,
    "name": _TEXT_G,
    "nces_id": _STR,
    "phone": _STR,
    "principal": _object(PRINCIPAL),
    "school_number": _STR_G,
    "sis_id": _STR_G,
    "state_id": _STR,
}
DISTRICT_CONTACT: Shape = {
    "district": _STR,
    "email": _STR,
    "id": _STR,
    "name": _object(PERSON_NAME),
    "title": _TEXT,
}
DISTRICT: Shape = {
    "district_contact": _object(DISTRICT_CONTACT),
    "error": _STR,
    "id": _STR_G,
    "last_attendance_sync": _STR,
    "last_sync": _STR,
    "launch_date": _STR,
    "lms_state": _STR,
    "lms_type": _STR,
    "login_methods": _LIST,
    "mdr_number": _STR,
    "name": _TEXT,
    "nces_id": _STR,
    "pause_end": _STR,
    "pause_start": _STR,
    "portal_url": _STR,
    "sis_type": _STR,
    "state": _STR,
}
TERM: Shape = {
    "district": _STR_G,
    "end_date": _STR,
    "id": _STR_G,
    "name": _TEXT,
    "start_date": _STR,
}
COURSE: Shape = {"district": _STR_G, "id": _STR_G, "name": _TEXT, "number": _STR}
RESOURCE: Shape = {
    "created": _STR,
    "district": _STR_G,
    "id": _STR_G,
    "resource_id": _STR,
    "roles": _LIST,
    "title": _TEXT,
    "updated": _STR,
}
RECORD_SHAPES: dict[str, Shape] = {
    "districts": DISTRICT,
    "schools": SCHOOL,
    "users": USER,
    "sections": SECTION,
    "terms": TERM,
    "courses": COURSE,
    "resources": RESOURCE,
}

# -- Key sets: every key a record or sub-object may carry according to the spec ---------------
USER_KEYS = frozenset(USER)
NAME_KEYS = frozenset(NAME)
STUDENT_KEYS = frozenset(STUDENT)
TEACHER_KEYS = frozenset(TEACHER)
STAFF_KEYS = frozenset(STAFF)
CONTACT_V2_KEYS = frozenset({"relationship", "type", "students"})
"""Keys of the older v2 contact shape, seen next to an empty ``student_relationships`` list."""
CONTACT_KEYS = frozenset(CONTACT) - CONTACT_V2_KEYS
DISTRICT_ADMIN_KEYS = frozenset(DISTRICT_ADMIN)
ROLE_KEYS = {name: frozenset(shape) for name, shape in ROLE_SHAPES.items()}
STUDENT_RELATIONSHIP_KEYS = frozenset(STUDENT_RELATIONSHIP)
ENROLLMENT_KEYS = frozenset(ENROLLMENT)
CREDENTIALS_KEYS = frozenset(CREDENTIALS)
DISABILITY_KEYS = frozenset(DISABILITY)
LOCATION_KEYS = frozenset(LOCATION)
LMS_STATUS_KEYS = frozenset(LMS_STATUS)
SECTION_KEYS = frozenset(SECTION)
SCHOOL_KEYS = frozenset(SCHOOL)
PRINCIPAL_KEYS = frozenset(PRINCIPAL)
DISTRICT_KEYS = frozenset(DISTRICT)
DISTRICT_CONTACT_KEYS = frozenset(DISTRICT_CONTACT)
TERM_KEYS = frozenset(TERM)
COURSE_KEYS = frozenset(COURSE)
RESOURCE_KEYS = frozenset(RESOURCE)
RECORD_KEYS = {record_type: frozenset(shape) for record_type, shape in RECORD_SHAPES.items()}
