{#- A user's `roles` object, parsed once where the record enters the warehouse (the staging
    view, or an event's object in clever_current_records): Clever keeps every role a user holds
    in that one object (a teacher who is also a district admin has both keys), and the role
    marts read typed struct fields instead of extracting JSON again, each of them, on every row.

    Two steps, in two projections: clever_users_roles_parsed reads the JSON (`roles_json`: the
    SQL of the object, a column or a path into an event) into three helper columns, and
    clever_role_names and clever_role_structs build the typed columns from them. (Written as one
    expression, the JSON call would be repeated in every field: a query of 150 KB that DuckDB
    takes seconds to plan.) -#}

{#- On PostgreSQL, which has no anonymous structs, each role column is a jsonb object of the same
    fields, typed values serialized ("" as NULL, nulls left out), and the marts read a field
    with clever_struct_field, which casts it back to its type. -#}

{#- The roles Clever v3.1 defines, in the order of the struct columns. -#}
{% macro clever_known_roles() -%}
    {{ return(['student', 'teacher', 'staff', 'contact', 'district_admin']) }}
{%- endmacro %}

{#- The JSON type of each known role's value ('OBJECT' when the role is held). -#}
{% macro clever_role_types(roles_json) -%}
    json_type({{ roles_json }}, [
        {%- for role in clever_known_roles() %}'$.{{ role }}'{% if not loop.last %}, {% endif %}{% endfor -%}
    ])
{%- endmacro %}

{#- The roles held, sorted: every key whose value is an object. A key holding null, a string
    or a list is not a role held. A role Clever adds later is listed too (its attributes are not
    parsed), so fct_user_roles shows it and its accepted_values test reports it. From the
    first step's columns: no lambda here captures the JSON, which would copy it per key. -#}
{% macro clever_role_names() -%}
    {{ return(adapter.dispatch('clever_role_names', 'clever_warehouse')()) }}
{%- endmacro %}

{% macro duckdb__clever_role_names() -%}
    list_sort(list_concat(
            list_filter([
                {%- for role in clever_known_roles() %}
                case when _role_types[{{ loop.index }}] = 'OBJECT' then '{{ role }}' end
                {%- if not loop.last %},{% endif %}
                {%- endfor %}
            ], lambda role: role is not null),
            _other_roles
        ))
{%- endmacro %}

{#- The fields of each role that the marts use, with the JSON types to read them as. Text is read
    as VARCHAR whatever JSON type Clever sent (a number becomes its digits, as `->>` gives). -#}
{% macro clever_roles_structure() -%}
{%- set text = '"VARCHAR"' -%}
{%- set ids = '["VARCHAR"]' -%}
{%- set credentials = '{"district_username": "VARCHAR"}' -%}
{
    "student": {
        "school": {{ text }}, "schools": {{ ids }}, "sis_id": {{ text }}, "state_id": {{ text }},
        "student_number": {{ text }}, "legacy_id": {{ text }}, "credentials": {{ credentials }},
        "grade": {{ text }}, "graduation_year": {{ text }}, "dob": {{ text }}, "gender": {{ text }},
        "race": {{ text }}, "hispanic_ethnicity": {{ text }}, "ell_status": {{ text }},
        "gifted_status": {{ text }}, "section_504_status": {{ text }}, "iep_status": {{ text }},
        "frl_status": {{ text }}, "home_language": {{ text }}, "home_language_code": {{ text }},
        "disability": {"disability_status": {{ text }}, "disability_code": {{ text }}, "disability_type": {{ text }}},
        "location": {"city": {{ text }}, "state": {{ text }}, "zip": {{ text }}},
        "preferred_name": {"first": {{ text }}, "middle": {{ text }}, "last": {{ text }}},
        "enrollments": [{"school": {{ text }}, "start_date": {{ text }}, "end_date": {{ text }}}],
        "ext": "JSON", "created": {{ text }}, "last_modified": {{ text }}
    },
    "teacher": {
        "school": {{ text }}, "schools": {{ ids }}, "title": {{ text }}, "sis_id": {{ text }},
        "state_id": {{ text }}, "teacher_number": {{ text }}, "legacy_id": {{ text }},
        "credentials": {{ credentials }}, "ext": "JSON", "created": {{ text }}, "last_modified": {{ text }}
    },
    "staff": {
        "school": {{ text }}, "schools": {{ ids }}, "title": {{ text }}, "department": {{ text }},
        "staff_id": {{ text }}, "roles": {{ ids }}, "legacy_id": {{ text }},
        "credentials": {{ credentials }}, "ext": "JSON"
    },
    "contact": {
        "phone": {{ text }}, "phone_type": {{ text }}, "sis_id": {{ text }}, "legacy_id": {{ text }},
        "student_relationships": [{"student": {{ text }}, "relationship": {{ text }}, "type": {{ text }}}],
        "relationship": {{ text }}, "type": {{ text }}, "students": {{ ids }}
    },
    "district_admin": {"title": {{ text }}, "legacy_id": {{ text }}}
}
{%- endmacro %}

{#- The first step: `_roles` (the object with each role's fields typed, as sent),
    `_role_types` (the JSON type of each known role's value) and `_other_roles` (keys of other
    roles held: almost always none, so the lambda that reads their types runs on empty lists). -#}
{% macro clever_users_roles_parsed(roles_json) -%}
    {{ return(adapter.dispatch('clever_users_roles_parsed', 'clever_warehouse')(roles_json)) }}
{%- endmacro %}

{% macro duckdb__clever_users_roles_parsed(roles_json) -%}
    json_transform({{ roles_json }}, '{{ clever_roles_structure() | replace('\n', ' ') }}') as _roles,
    {{ clever_role_types(roles_json) }} as _role_types,
    list_filter(
        list_filter(
            coalesce(json_keys({{ roles_json }}), cast([] as varchar[])),
            lambda role: role not in ('{{ clever_known_roles() | join("', '") }}')
        ),
        lambda role: json_type({{ roles_json }} -> role) = 'OBJECT'
    ) as _other_roles
{%- endmacro %}

{#- The second step, from the columns of the first: one struct column per known role, the
    role's attributes typed and cleaned ("" as NULL, dates and Y/N flags parsed, the text as
    sent kept beside each parsed value for the tests that count what did not parse), NULL when
    the user does not hold the role. -#}
{% macro clever_role_structs() -%}
    {{ return(adapter.dispatch('clever_role_structs', 'clever_warehouse')()) }}
{%- endmacro %}

{% macro duckdb__clever_role_structs() -%}
    {%- set types = '_role_types' -%}
    {%- set s = '_roles.student' -%}
    {%- set t = '_roles.teacher' -%}
    {%- set st = '_roles.staff' -%}
    {%- set c = '_roles.contact' -%}
    {%- set a = '_roles.district_admin' -%}
        case when {{ types }}[1] = 'OBJECT' then struct_pack(
            school_id := {{ clever_text(s ~ '.school') }},
            school_ids := coalesce({{ s }}.schools, cast([] as varchar[])),
            sis_id := {{ clever_text(s ~ '.sis_id') }},
            state_id := {{ clever_text(s ~ '.state_id') }},
            student_number := {{ clever_text(s ~ '.student_number') }},
            legacy_id := {{ clever_text(s ~ '.legacy_id') }},
            district_username := {{ clever_text(s ~ '.credentials.district_username') }},
            grade := {{ clever_text(s ~ '.grade') }},
            graduation_year := {{ clever_text(s ~ '.graduation_year') }},
            dob := {{ clever_dob(s ~ '.dob') }},
            dob_text := {{ s }}.dob,
            gender := {{ clever_text(s ~ '.gender') }},
            race := {{ clever_text(s ~ '.race') }},
            hispanic_ethnicity := {{ clever_yn(s ~ '.hispanic_ethnicity') }},
            hispanic_ethnicity_text := {{ s }}.hispanic_ethnicity,
            ell_status := {{ clever_yn(s ~ '.ell_status') }},
            ell_status_text := {{ s }}.ell_status,
            gifted_status := {{ clever_yn(s ~ '.gifted_status') }},
            gifted_status_text := {{ s }}.gifted_status,
            section_504_status := {{ clever_yn(s ~ '.section_504_status') }},
            section_504_status_text := {{ s }}.section_504_status,
            iep_status := {{ clever_text(s ~ '.iep_status') }},
            frl_status := {{ clever_text(s ~ '.frl_status') }},
            home_language := {{ clever_text(s ~ '.home_language') }},
            home_language_code := {{ clever_text(s ~ '.home_language_code') }},
            disability_status := {{ clever_yn(s ~ '.disability.disability_status') }},
            disability_status_text := {{ s }}.disability.disability_status,
            disability_code := {{ clever_text(s ~ '.disability.disability_code') }},
            disability_type := {{ clever_text(s ~ '.disability.disability_type') }},
            city := {{ clever_text(s ~ '.location.city') }},
            state := {{ clever_text(s ~ '.location.state') }},
            zip := {{ clever_text(s ~ '.location.zip') }},
            preferred_first_name := {{ clever_text(s ~ '.preferred_name.first') }},
            preferred_middle_name := {{ clever_text(s ~ '.preferred_name.middle') }},
            preferred_last_name := {{ clever_text(s ~ '.preferred_name.last') }},
            -- One entry per listed enrollment, in list order (a null entry too: it keeps its
            -- position, with no school or dates).
            enrollments := list_transform(
                coalesce({{ s }}.enrollments, []),
                lambda enrollment: struct_pack(
                    school_id := {{ clever_text('enrollment.school') }},
                    start_date := {{ clever_date('enrollment.start_date') }},
                    end_date := {{ clever_date('enrollment.end_date') }},
                    start_date_text := enrollment.start_date,
                    end_date_text := enrollment.end_date
                )
            ),
            ext := {{ s }}.ext,
            created_at := {{ clever_timestamp(s ~ '.created') }},
            last_modified_at := {{ clever_timestamp(s ~ '.last_modified') }}
        ) end as student,
        case when {{ types }}[2] = 'OBJECT' then struct_pack(
            school_id := {{ clever_text(t ~ '.school') }},
            school_ids := coalesce({{ t }}.schools, cast([] as varchar[])),
            title := {{ clever_text(t ~ '.title') }},
            sis_id := {{ clever_text(t ~ '.sis_id') }},
            state_id := {{ clever_text(t ~ '.state_id') }},
            teacher_number := {{ clever_text(t ~ '.teacher_number') }},
            legacy_id := {{ clever_text(t ~ '.legacy_id') }},
            district_username := {{ clever_text(t ~ '.credentials.district_username') }},
            ext := {{ t }}.ext,
            created_at := {{ clever_timestamp(t ~ '.created') }},
            last_modified_at := {{ clever_timestamp(t ~ '.last_modified') }}
        ) end as teacher,
        case when {{ types }}[3] = 'OBJECT' then struct_pack(
            -- Clever's staff role has no primary `school`; read anyway, as for the other roles.
            school_id := {{ clever_text(st ~ '.school') }},
            school_ids := coalesce({{ st }}.schools, cast([] as varchar[])),
            title := {{ clever_text(st ~ '.title') }},
            department := {{ clever_text(st ~ '.department') }},
            -- Clever's `staff_id` is the district's own staff number, not the Clever id.
            district_staff_id := {{ clever_text(st ~ '.staff_id') }},
            staff_roles := coalesce({{ st }}.roles, cast([] as varchar[])),
            legacy_id := {{ clever_text(st ~ '.legacy_id') }},
            district_username := {{ clever_text(st ~ '.credentials.district_username') }},
            ext := {{ st }}.ext
        ) end as staff,
        case when {{ types }}[4] = 'OBJECT' then struct_pack(
            phone := {{ clever_text(c ~ '.phone') }},
            phone_type := {{ clever_text(c ~ '.phone_type') }},
            sis_id := {{ clever_text(c ~ '.sis_id') }},
            legacy_id := {{ clever_text(c ~ '.legacy_id') }},
            -- v3 shape: one {student, relationship, type} per student.
            student_relationships := list_transform(
                coalesce({{ c }}.student_relationships, []),
                lambda entry: struct_pack(
                    student_id := {{ clever_text('entry.student') }},
                    relationship := {{ clever_text('entry.relationship') }},
                    relationship_type := {{ clever_text('entry.type') }}
                )
            ),
            -- Older v2 shape (still seen inside events): one relationship and type for a list
            -- of students.
            v2_relationship := {{ clever_text(c ~ '.relationship') }},
            v2_relationship_type := {{ clever_text(c ~ '.type') }},
            v2_student_ids := coalesce({{ c }}.students, cast([] as varchar[]))
        ) end as contact,
        case when {{ types }}[5] = 'OBJECT' then struct_pack(
            title := {{ clever_text(a ~ '.title') }},
            legacy_id := {{ clever_text(a ~ '.legacy_id') }}
        ) end as district_admin
{%- endmacro %}

{#- PostgreSQL's first step: the `roles` object when it is one (`_roles`), and each known
    role's value (`_role_student`, ...), read by the second. Reading each role out of the object
    once, here, instead of in each of its fields' expressions, makes the second step about 4
    times faster (the caller's CTE is materialized, see clever_materialized_cte). -#}
{% macro postgres__clever_users_roles_parsed(roles_json) -%}
    case when jsonb_typeof({{ roles_json }}) = 'object' then {{ roles_json }} end as _roles
    {%- for role in clever_known_roles() %},
    case when jsonb_typeof({{ roles_json }}) = 'object' then {{ roles_json }} -> '{{ role }}' end as _role_{{ role }}
    {%- endfor %}
{%- endmacro %}

{#- Sorted byte-wise, as DuckDB's list_sort does, whatever the database's collation. -#}
{% macro postgres__clever_role_names() -%}
    array(
            select role.key
            from jsonb_each(_roles) as role
            where jsonb_typeof(role.value) = 'object'
            order by role.key collate "C"
        )
{%- endmacro %}

{#- The role structs as jsonb, with the fields of duckdb__clever_role_structs. -#}
{% macro postgres__clever_role_structs() -%}
    {%- set roles = {} -%}
    {%- for role in clever_known_roles() -%}
        {%- do roles.update({role: "_role_" ~ role}) -%}
    {%- endfor -%}
    {%- set s = roles['student'] -%}
    {%- set t = roles['teacher'] -%}
    {%- set st = roles['staff'] -%}
    {%- set c = roles['contact'] -%}
    {%- set a = roles['district_admin'] -%}
    {#- The text of a member as sent, and a JSON list (an empty one for anything else). -#}
    {%- set v = clever_pg_json_text -%}
    {%- set list = clever_pg_json_list -%}
        case when jsonb_typeof({{ s }}) = 'object' then jsonb_strip_nulls(jsonb_build_object(
            'school_id', {{ clever_text(v(s, 'school')) }},
            'school_ids', {{ list(s ~ " -> 'schools'") }},
            'sis_id', {{ clever_text(v(s, 'sis_id')) }},
            'state_id', {{ clever_text(v(s, 'state_id')) }},
            'student_number', {{ clever_text(v(s, 'student_number')) }},
            'legacy_id', {{ clever_text(v(s, 'legacy_id')) }},
            'district_username', {{ clever_text(v(s ~ " -> 'credentials'", 'district_username')) }},
            'grade', {{ clever_text(v(s, 'grade')) }},
            'graduation_year', {{ clever_text(v(s, 'graduation_year')) }},
            'dob', {{ clever_dob(v(s, 'dob')) }},
            'dob_text', {{ v(s, 'dob') }},
            'gender', {{ clever_text(v(s, 'gender')) }},
            'race', {{ clever_text(v(s, 'race')) }},
            'hispanic_ethnicity', {{ clever_yn(v(s, 'hispanic_ethnicity')) }},
            'hispanic_ethnicity_text', {{ v(s, 'hispanic_ethnicity') }},
            'ell_status', {{ clever_yn(v(s, 'ell_status')) }},
            'ell_status_text', {{ v(s, 'ell_status') }},
            'gifted_status', {{ clever_yn(v(s, 'gifted_status')) }},
            'gifted_status_text', {{ v(s, 'gifted_status') }},
            'section_504_status', {{ clever_yn(v(s, 'section_504_status')) }},
            'section_504_status_text', {{ v(s, 'section_504_status') }},
            'iep_status', {{ clever_text(v(s, 'iep_status')) }},
            'frl_status', {{ clever_text(v(s, 'frl_status')) }},
            'home_language', {{ clever_text(v(s, 'home_language')) }},
            'home_language_code', {{ clever_text(v(s, 'home_language_code')) }},
            'disability_status', {{ clever_yn(v(s ~ " -> 'disability'", 'disability_status')) }},
            'disability_status_text', {{ v(s ~ " -> 'disability'", 'disability_status') }},
            'disability_code', {{ clever_text(v(s ~ " -> 'disability'", 'disability_code')) }},
            'disability_type', {{ clever_text(v(s ~ " -> 'disability'", 'disability_type')) }},
            'city', {{ clever_text(v(s ~ " -> 'location'", 'city')) }},
            'state', {{ clever_text(v(s ~ " -> 'location'", 'state')) }},
            'zip', {{ clever_text(v(s ~ " -> 'location'", 'zip')) }},
            'preferred_first_name', {{ clever_text(v(s ~ " -> 'preferred_name'", 'first')) }},
            'preferred_middle_name', {{ clever_text(v(s ~ " -> 'preferred_name'", 'middle')) }},
            'preferred_last_name', {{ clever_text(v(s ~ " -> 'preferred_name'", 'last')) }},
            -- One entry per listed enrollment, in list order (a null entry too: it keeps its
            -- position, with no school or dates).
            'enrollments', coalesce((
                select jsonb_agg(jsonb_build_object(
                    'school_id', {{ clever_text(v('enrollment', 'school')) }},
                    'start_date', {{ clever_date(v('enrollment', 'start_date')) }},
                    'end_date', {{ clever_date(v('enrollment', 'end_date')) }},
                    'start_date_text', {{ v('enrollment', 'start_date') }},
                    'end_date_text', {{ v('enrollment', 'end_date') }}
                ) order by position)
                from jsonb_array_elements({{ list(s ~ " -> 'enrollments'") }})
                    with ordinality as enrollments (enrollment, position)
            ), '[]'::jsonb),
            'ext', {{ s }} -> 'ext',
            'created_at', {{ clever_timestamp(v(s, 'created')) }},
            'last_modified_at', {{ clever_timestamp(v(s, 'last_modified')) }}
        )) end as student,
        case when jsonb_typeof({{ t }}) = 'object' then jsonb_strip_nulls(jsonb_build_object(
            'school_id', {{ clever_text(v(t, 'school')) }},
            'school_ids', {{ list(t ~ " -> 'schools'") }},
            'title', {{ clever_text(v(t, 'title')) }},
            'sis_id', {{ clever_text(v(t, 'sis_id')) }},
            'state_id', {{ clever_text(v(t, 'state_id')) }},
            'teacher_number', {{ clever_text(v(t, 'teacher_number')) }},
            'legacy_id', {{ clever_text(v(t, 'legacy_id')) }},
            'district_username', {{ clever_text(v(t ~ " -> 'credentials'", 'district_username')) }},
            'ext', {{ t }} -> 'ext',
            'created_at', {{ clever_timestamp(v(t, 'created')) }},
            'last_modified_at', {{ clever_timestamp(v(t, 'last_modified')) }}
        )) end as teacher,
        case when jsonb_typeof({{ st }}) = 'object' then jsonb_strip_nulls(jsonb_build_object(
            'school_id', {{ clever_text(v(st, 'school')) }},
            'school_ids', {{ list(st ~ " -> 'schools'") }},
            'title', {{ clever_text(v(st, 'title')) }},
            'department', {{ clever_text(v(st, 'department')) }},
            'district_staff_id', {{ clever_text(v(st, 'staff_id')) }},
            'staff_roles', {{ list(st ~ " -> 'roles'") }},
            'legacy_id', {{ clever_text(v(st, 'legacy_id')) }},
            'district_username', {{ clever_text(v(st ~ " -> 'credentials'", 'district_username')) }},
            'ext', {{ st }} -> 'ext'
        )) end as staff,
        case when jsonb_typeof({{ c }}) = 'object' then jsonb_strip_nulls(jsonb_build_object(
            'phone', {{ clever_text(v(c, 'phone')) }},
            'phone_type', {{ clever_text(v(c, 'phone_type')) }},
            'sis_id', {{ clever_text(v(c, 'sis_id')) }},
            'legacy_id', {{ clever_text(v(c, 'legacy_id')) }},
            -- v3 shape: one {student, relationship, type} per student.
            'student_relationships', coalesce((
                select jsonb_agg(jsonb_build_object(
                    'student_id', {{ clever_text(v('entry', 'student')) }},
                    'relationship', {{ clever_text(v('entry', 'relationship')) }},
                    'relationship_type', {{ clever_text(v('entry', 'type')) }}
                ) order by position)
                from jsonb_array_elements({{ list(c ~ " -> 'student_relationships'") }})
                    with ordinality as entries (entry, position)
            ), '[]'::jsonb),
            -- Older v2 shape (still seen inside events): one relationship and type for a list
            -- of students.
            'v2_relationship', {{ clever_text(v(c, 'relationship')) }},
            'v2_relationship_type', {{ clever_text(v(c, 'type')) }},
            'v2_student_ids', {{ list(c ~ " -> 'students'") }}
        )) end as contact,
        case when jsonb_typeof({{ a }}) = 'object' then jsonb_strip_nulls(jsonb_build_object(
            'title', {{ clever_text(v(a, 'title')) }},
            'legacy_id', {{ clever_text(v(a, 'legacy_id')) }}
        )) end as district_admin
{%- endmacro %}

{#- PostgreSQL: the text of an object's member, as sent (`->>`: a number as its digits). -#}
{% macro clever_pg_json_text(json_expression, key) -%}
    ({{ json_expression }} ->> '{{ key }}')
{%- endmacro %}

{#- PostgreSQL: a JSON list as it is, an empty one for anything else (NULL, an object). -#}
{% macro clever_pg_json_list(json_expression) -%}
    coalesce(case when jsonb_typeof({{ json_expression }}) = 'array' then {{ json_expression }} end, '[]'::jsonb)
{%- endmacro %}

{#- A field of a struct column: a role's attribute (`student.dob`), an item of a role's list
    (`entry.student_id`). -#}
{% macro clever_struct_field(struct, field) -%}
    {{ return(adapter.dispatch('clever_struct_field', 'clever_warehouse')(struct, field)) }}
{%- endmacro %}

{% macro duckdb__clever_struct_field(struct, field) -%}
    {{ struct }}.{{ field }}
{%- endmacro %}

{#- From jsonb, cast back to the field's type (clever_struct_field_types; text by default):
    lists of ids as text[], lists of objects as jsonb[] (so that unnest and generate_subscripts
    read them as they read DuckDB's lists). -#}
{% macro postgres__clever_struct_field(struct, field) -%}
    {%- set type = clever_struct_field_types().get(field, 'text') -%}
    {%- set value = struct ~ " -> '" ~ field ~ "'" -%}
    {%- if type == 'text' -%}
        ({{ struct }} ->> '{{ field }}')
    {%- elif type == 'jsonb' -%}
        ({{ value }})
    {%- elif type == 'text[]' -%}
        {{ clever_id_list(value) }}
    {%- elif type == 'jsonb[]' -%}
        array(
            select item
            from jsonb_array_elements({{ clever_pg_json_list(value) }}) with ordinality as items (item, position)
            order by position
        )
    {%- else -%}
        cast({{ struct }} ->> '{{ field }}' as {{ type }})
    {%- endif -%}
{%- endmacro %}

{#- The same as a select-list column named after the field, as `student.dob` is in DuckDB. -#}
{% macro clever_struct_column(struct, field) -%}
    {{ return(adapter.dispatch('clever_struct_column', 'clever_warehouse')(struct, field)) }}
{%- endmacro %}

{% macro duckdb__clever_struct_column(struct, field) -%}
    {{ struct }}.{{ field }}
{%- endmacro %}

{% macro default__clever_struct_column(struct, field) -%}
    {{ clever_struct_field(struct, field) }} as {{ field }}
{%- endmacro %}

{#- The type of each struct field that is not text, where jsonb does not keep it. -#}
{% macro clever_struct_field_types() -%}
    {%- set types = {
        'dob': 'date', 'start_date': 'date', 'end_date': 'date',
        'created_at': 'timestamp', 'last_modified_at': 'timestamp',
        'hispanic_ethnicity': 'boolean', 'ell_status': 'boolean', 'gifted_status': 'boolean',
        'section_504_status': 'boolean', 'disability_status': 'boolean',
        'school_ids': 'text[]', 'staff_roles': 'text[]', 'v2_student_ids': 'text[]',
        'enrollments': 'jsonb[]', 'student_relationships': 'jsonb[]', 'ext': 'jsonb',
    } -%}
    {{ return(types) }}
{%- endmacro %}

{#- A column, or a field of a struct column written `struct.field` (clever_struct_field). -#}
{% macro clever_struct_path(path) -%}
    {%- if '.' in path -%}
        {{ clever_struct_field(path.split('.')[0], path.split('.', 1)[1]) }}
    {%- else -%}
        {{ path }}
    {%- endif -%}
{%- endmacro %}
