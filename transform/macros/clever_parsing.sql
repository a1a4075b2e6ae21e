{#- Parsing of Clever's loosely formatted strings. Each macro returns NULL for a value it cannot
    parse (never an error), so one bad SIS value cannot stop a build; the `parsed_where_present`
    test counts those NULLs. -#}

{#- A string with surrounding blanks removed, "" as NULL (Clever sends "" for unset enums). -#}
{% macro clever_text(expression) -%}
    nullif(trim(cast({{ expression }} as varchar)), '')
{%- endmacro %}

{#- A term or enrollment date. Clever validates these as "some expression of time" without
    normalizing them: "2015-08-25", "2015-08-25T00:00:00.000Z" and
    "2015-08-25 00:00:00.000000" all mean the date 2015-08-25, so the date is the leading
    YYYY-MM-DD whatever time part follows. -#}
{% macro clever_date(expression) -%}
    case
        when regexp_matches(trim(cast({{ expression }} as varchar)), '^[0-9]{4}-[0-9]{2}-[0-9]{2}([T ].*)?$')
            then try_cast(left(trim(cast({{ expression }} as varchar)), 10) as date)
    end
{%- endmacro %}

{#- A student's date of birth, M/D/YYYY with or without leading zeros ("8/5/2011"). -#}
{% macro clever_dob(expression) -%}
    case
        when regexp_matches(trim(cast({{ expression }} as varchar)), '^[0-9]{1,2}/[0-9]{1,2}/[0-9]{4}$')
            then cast(try_strptime(trim(cast({{ expression }} as varchar)), '%m/%d/%Y') as date)
    end
{%- endmacro %}

{#- Whether a value is a hash the tap wrote in place of a personal one (pii_mode hash: 64
    lowercase hex digits, the HMAC-SHA256 of the value; see docs/privacy.md). Such a value is
    not a date the SIS got wrong: it cannot parse, on purpose. -#}
{% macro clever_is_pii_hash(expression) -%}
    coalesce(regexp_full_match(cast({{ expression }} as varchar), '[0-9a-f]{64}'), false)
{%- endmacro %}

{#- A Clever yes/no flag: "Y" is true, "N" false, "" (unknown) and anything else NULL. -#}
{% macro clever_yn(expression) -%}
    case upper(trim(cast({{ expression }} as varchar)))
        when 'Y' then true
        when 'N' then false
    end
{%- endmacro %}

{#- A Clever timestamp string ("2021-11-25T17:06:03.838Z"), as a UTC TIMESTAMP. -#}
{% macro clever_timestamp(expression) -%}
    try_cast(replace(trim(cast({{ expression }} as varchar)), 'Z', '') as timestamp)
{%- endmacro %}

{#- The items of a JSON array of strings (a section's `students`, a teacher's `schools`) as a
    list of VARCHAR; NULL or a non-array gives an empty list. -#}
{% macro clever_id_list(json_expression) -%}
    coalesce(
        case when json_type({{ json_expression }}) = 'ARRAY'
            then cast(json_extract_string({{ json_expression }}, '$[*]') as varchar[])
        end,
        cast([] as varchar[])
    )
{%- endmacro %}
