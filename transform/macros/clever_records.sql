{#- One definition of each Clever record's columns, read either from a raw snapshot row or from
    an event's `data.object`.

    A snapshot row (raw_clever.<type>) and an event's object are the same record in two
    containers: the raw table has one column per top-level field (nested objects as JSON,
    date-times as TIMESTAMP), the event has the whole record as one JSON value. The staging
    models and the event application in clever_current_records both call
    clever_<type>_fields(source_kind), so a record's columns are renamed, parsed and typed
    once, whichever way it arrived.

    source_kind 'raw': the fields are the raw table's columns.
    source_kind 'event': the fields are read from a JSON column `object` (the event's record),
    and the district is the event's own `district_id` (the tap tags every event with it).

    A record type whose fields need a first parsing step (users: the `roles` object) defines
    clever_<type>_parsed(source_kind), columns the caller adds in a projection before the
    fields (see clever_record_parsed). -#}

{#- One top-level field of the record. kind: 'text' (VARCHAR), 'json' (object or array) or
    'timestamp'. -#}
{% macro clever_field(source_kind, name, kind='text') -%}
    {{ return(adapter.dispatch('clever_field', 'clever_warehouse')(source_kind, name, kind)) }}
{%- endmacro %}

{% macro duckdb__clever_field(source_kind, name, kind='text') -%}
    {%- if source_kind == 'raw' and kind == 'timestamp' -%}
        {#- A TIMESTAMP column stays as it is; a text one (the schema declared no date-time
            format) may hold "" or another non-date, which becomes NULL, not an error. -#}
        {{ clever_try_timestamp(name) }}
    {%- elif source_kind == 'raw' -%}
        {{ name }}
    {%- elif name == 'district' -%}
        district_id
    {%- elif kind == 'json' -%}
        {#- A JSON null is SQL NULL in the raw tables: the same here. -#}
        (case when json_type(object -> '{{ name }}') <> 'NULL' then object -> '{{ name }}' end)
    {%- elif kind == 'timestamp' -%}
        {{ clever_try_timestamp("object ->> '" ~ name ~ "'") }}
    {%- else -%}
        (object ->> '{{ name }}')
    {%- endif -%}
{%- endmacro %}

{#- PostgreSQL: the loader stores objects as jsonb but arrays of strings as text[] (a section's
    `students`); to_jsonb makes both jsonb, as an event's fields are, so that one parsing of
    each field serves both containers. -#}
{% macro postgres__clever_field(source_kind, name, kind='text') -%}
    {%- if source_kind == 'raw' and kind == 'timestamp' -%}
        {{ clever_try_timestamp(name) }}
    {%- elif source_kind == 'raw' and kind == 'json' -%}
        nullif(to_jsonb({{ name }}), 'null'::jsonb)
    {%- elif source_kind == 'raw' -%}
        {{ name }}
    {%- elif name == 'district' -%}
        district_id
    {%- elif kind == 'json' -%}
        (case when jsonb_typeof(object -> '{{ name }}') <> 'null' then object -> '{{ name }}' end)
    {%- elif kind == 'timestamp' -%}
        {{ clever_try_timestamp("object ->> '" ~ name ~ "'") }}
    {%- else -%}
        (object ->> '{{ name }}')
    {%- endif -%}
{%- endmacro %}

{% macro clever_districts_fields(source_kind) -%}
    {%- set f = clever_field -%}
        {{ f(source_kind, 'id') }} as district_id,
        {{ clever_text(f(source_kind, 'name')) }} as name,
        {{ clever_text(f(source_kind, 'state')) }} as sync_state,
        {{ clever_text(f(source_kind, 'sis_type')) }} as sis_type,
        {{ clever_text(f(source_kind, 'nces_id')) }} as nces_id,
        {{ clever_text(f(source_kind, 'mdr_number')) }} as mdr_number,
        {{ clever_text(f(source_kind, 'portal_url')) }} as portal_url,
        {{ clever_text(f(source_kind, 'lms_state')) }} as lms_state,
        {{ clever_text(f(source_kind, 'lms_type')) }} as lms_type,
        {{ clever_text(f(source_kind, 'error')) }} as sync_error,
        {{ clever_text(f(source_kind, 'district_contact', 'json') ~ " ->> 'id'") }} as district_contact_id,
        {{ clever_text(f(source_kind, 'district_contact', 'json') ~ " ->> 'email'") }} as district_contact_email,
        {{ clever_text(f(source_kind, 'district_contact', 'json') ~ " ->> 'title'") }} as district_contact_title,
        {{ clever_text(f(source_kind, 'district_contact', 'json') ~ " -> 'name' ->> 'first'") }} as district_contact_first_name,
        {{ clever_text(f(source_kind, 'district_contact', 'json') ~ " -> 'name' ->> 'last'") }} as district_contact_last_name,
        {{ clever_date(f(source_kind, 'launch_date')) }} as launch_date,
        {{ f(source_kind, 'launch_date') }} as launch_date_text,
        cast({{ f(source_kind, 'last_sync', 'timestamp') }} as timestamp) as last_sync_at,
        cast({{ f(source_kind, 'last_attendance_sync', 'timestamp') }} as timestamp) as last_attendance_sync_at,
        cast({{ f(source_kind, 'pause_start', 'timestamp') }} as timestamp) as pause_start_at,
        cast({{ f(source_kind, 'pause_end', 'timestamp') }} as timestamp) as pause_end_at
{%- endmacro %}

{% macro clever_schools_fields(source_kind) -%}
    {%- set f = clever_field -%}
        {{ f(source_kind, 'id') }} as school_id,
        {{ f(source_kind, 'district') }} as district_id,
        {{ clever_text(f(source_kind, 'name')) }} as name,
        {{ clever_text(f(source_kind, 'low_grade')) }} as low_grade,
        {{ clever_text(f(source_kind, 'high_grade')) }} as high_grade,
        {{ clever_text(f(source_kind, 'school_number')) }} as school_number,
        {{ clever_text(f(source_kind, 'sis_id')) }} as sis_id,
        {{ clever_text(f(source_kind, 'state_id')) }} as state_id,
        {{ clever_text(f(source_kind, 'nces_id')) }} as nces_id,
        {{ clever_text(f(source_kind, 'mdr_number')) }} as mdr_number,
        {{ clever_text(f(source_kind, 'phone')) }} as phone,
        {{ clever_text(f(source_kind, 'location', 'json') ~ " ->> 'address'") }} as address,
        {{ clever_text(f(source_kind, 'location', 'json') ~ " ->> 'city'") }} as city,
        {{ clever_text(f(source_kind, 'location', 'json') ~ " ->> 'state'") }} as state,
        {{ clever_text(f(source_kind, 'location', 'json') ~ " ->> 'zip'") }} as zip,
        {{ clever_try_double(clever_text(f(source_kind, 'location', 'json') ~ " ->> 'lat'")) }} as latitude,
        {{ clever_try_double(clever_text(f(source_kind, 'location', 'json') ~ " ->> 'lon'")) }} as longitude,
        {{ clever_text(f(source_kind, 'principal', 'json') ~ " ->> 'name'") }} as principal_name,
        {{ clever_text(f(source_kind, 'principal', 'json') ~ " ->> 'email'") }} as principal_email,
        {{ f(source_kind, 'ext', 'json') }} as ext,
        cast({{ f(source_kind, 'created', 'timestamp') }} as timestamp) as created_at,
        cast({{ f(source_kind, 'last_modified', 'timestamp') }} as timestamp) as last_modified_at
{%- endmacro %}

{#- Users' first step: the `roles` object read once (macros/clever_roles.sql). -#}
{% macro clever_users_parsed(source_kind) -%}
    {{ clever_users_roles_parsed(clever_field(source_kind, 'roles', 'json')) }}
{%- endmacro %}

{% macro clever_users_fields(source_kind) -%}
    {%- set f = clever_field -%}
        {{ f(source_kind, 'id') }} as user_id,
        {{ f(source_kind, 'district') }} as district_id,
        {{ clever_text(f(source_kind, 'email')) }} as email,
        {{ clever_text(f(source_kind, 'name', 'json') ~ " ->> 'first'") }} as first_name,
        {{ clever_text(f(source_kind, 'name', 'json') ~ " ->> 'middle'") }} as middle_name,
        {{ clever_text(f(source_kind, 'name', 'json') ~ " ->> 'last'") }} as last_name,
        -- The roles held, and one typed struct per role (NULL when the user does not hold it).
        {{ clever_role_names() }} as role_names,
        {{ clever_role_structs() }},
        cast({{ f(source_kind, 'created', 'timestamp') }} as timestamp) as created_at,
        cast({{ f(source_kind, 'last_modified', 'timestamp') }} as timestamp) as last_modified_at
{%- endmacro %}

{% macro clever_sections_fields(source_kind) -%}
    {%- set f = clever_field -%}
        {{ f(source_kind, 'id') }} as section_id,
        {{ f(source_kind, 'district') }} as district_id,
        {{ f(source_kind, 'school') }} as school_id,
        {{ clever_text(f(source_kind, 'course')) }} as course_id,
        {{ clever_text(f(source_kind, 'term_id')) }} as term_id,
        {{ clever_text(f(source_kind, 'teacher')) }} as primary_teacher_id,
        {{ clever_id_list(f(source_kind, 'teachers', 'json')) }} as teacher_ids,
        {{ clever_id_list(f(source_kind, 'students', 'json')) }} as student_ids,
        {{ clever_text(f(source_kind, 'name')) }} as name,
        {{ clever_text(f(source_kind, 'subject')) }} as subject,
        {{ clever_text(f(source_kind, 'grade')) }} as grade,
        {{ clever_text(f(source_kind, 'period')) }} as period,
        {{ clever_text(f(source_kind, 'section_number')) }} as section_number,
        {{ clever_text(f(source_kind, 'sis_id')) }} as sis_id,
        {{ f(source_kind, 'ext', 'json') }} as ext,
        cast({{ f(source_kind, 'created', 'timestamp') }} as timestamp) as created_at,
        cast({{ f(source_kind, 'last_modified', 'timestamp') }} as timestamp) as last_modified_at
{%- endmacro %}

{% macro clever_terms_fields(source_kind) -%}
    {%- set f = clever_field -%}
        {{ f(source_kind, 'id') }} as term_id,
        {{ f(source_kind, 'district') }} as district_id,
        {{ clever_text(f(source_kind, 'name')) }} as name,
        {{ clever_date(f(source_kind, 'start_date')) }} as start_date,
        {{ clever_date(f(source_kind, 'end_date')) }} as end_date,
        -- As sent, for the test that counts dates that did not parse.
        {{ f(source_kind, 'start_date') }} as start_date_text,
        {{ f(source_kind, 'end_date') }} as end_date_text
{%- endmacro %}

{% macro clever_courses_fields(source_kind) -%}
    {%- set f = clever_field -%}
        {{ f(source_kind, 'id') }} as course_id,
        {{ f(source_kind, 'district') }} as district_id,
        {{ clever_text(f(source_kind, 'name')) }} as name,
        {{ clever_text(f(source_kind, 'number')) }} as number
{%- endmacro %}

{% macro clever_resources_fields(source_kind) -%}
    {%- set f = clever_field -%}
        {{ f(source_kind, 'id') }} as resource_id,
        {{ f(source_kind, 'district') }} as district_id,
        {{ clever_text(f(source_kind, 'title')) }} as title,
        -- Clever's `resource_id` is the provider's identifier, not the record id.
        {{ clever_text(f(source_kind, 'resource_id')) }} as provider_resource_id,
        {{ clever_id_list(f(source_kind, 'roles', 'json')) }} as audience_roles,
        cast({{ f(source_kind, 'created', 'timestamp') }} as timestamp) as created_at,
        cast({{ f(source_kind, 'updated', 'timestamp') }} as timestamp) as updated_at
{%- endmacro %}

{#- The record columns of one record type (users, sections...), from either container. -#}
{% macro clever_record_fields(record_type, source_kind) -%}
    {{ context['clever_' ~ record_type ~ '_fields'](source_kind) }}
{%- endmacro %}

{#- The columns of a record type's staging model (stg_clever__<type>), in order: the names
    clever_<type>_fields gives its expressions, then the load columns every staging model adds.
    For SQL that must list them (clever_star_except). The names are the `as name` left at the
    top level once comments, strings and parenthesized groups are taken out. -#}
{% macro clever_staged_columns(record_type) -%}
    {%- set re = modules.re -%}
    {%- set fields = namespace(sql=clever_record_fields(record_type, 'raw')) -%}
    {%- set fields.sql = re.sub("--[^\\n]*", "", fields.sql) -%}
    {%- set fields.sql = re.sub("'[^']*'", "''", fields.sql) -%}
    {%- for _ in range(50) if '(' in fields.sql -%}
        {%- set fields.sql = re.sub("\\([^()]*\\)", " ", fields.sql) -%}
    {%- endfor -%}
    {{ return(re.findall("\\bas\\s+(\\w+)", fields.sql) + ['snapshot_id', 'extracted_at', 'loaded_at', 'deleted_at']) }}
{%- endmacro %}

{#- `select *` plus the record type's first-step columns, if it has any: the projection to put
    between the source rows and clever_record_fields. -#}
{% macro clever_record_parsed(record_type, source_kind) -%}
    {%- set parsed = context.get('clever_' ~ record_type ~ '_parsed') -%}
    select *{% if parsed %}, {{ parsed(source_kind) }}{% endif %}
{%- endmacro %}
