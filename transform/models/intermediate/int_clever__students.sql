with student_roles as (
    select * from {{ ref('int_clever__user_roles') }}
    where role = 'student'
),

students as (
    select
        user_id as student_id,
        district_id,
        {{ clever_text("role_attributes ->> 'school'") }} as school_id,
        {{ clever_id_list("role_attributes -> 'schools'") }} as school_ids,
        email,
        first_name,
        middle_name,
        last_name,
        {{ clever_text("role_attributes -> 'preferred_name' ->> 'first'") }} as preferred_first_name,
        {{ clever_text("role_attributes -> 'preferred_name' ->> 'middle'") }} as preferred_middle_name,
        {{ clever_text("role_attributes -> 'preferred_name' ->> 'last'") }} as preferred_last_name,
        {{ clever_text("role_attributes ->> 'sis_id'") }} as sis_id,
        {{ clever_text("role_attributes ->> 'state_id'") }} as state_id,
        {{ clever_text("role_attributes ->> 'student_number'") }} as student_number,
        {{ clever_text("role_attributes ->> 'legacy_id'") }} as legacy_id,
        {{ clever_text("role_attributes -> 'credentials' ->> 'district_username'") }} as district_username,
        {{ clever_text("role_attributes ->> 'grade'") }} as grade,
        {{ clever_text("role_attributes ->> 'graduation_year'") }} as graduation_year,
        {{ clever_dob("role_attributes ->> 'dob'") }} as dob,
        {{ clever_text("role_attributes ->> 'gender'") }} as gender,
        {{ clever_text("role_attributes ->> 'race'") }} as race,
        {{ clever_yn("role_attributes ->> 'hispanic_ethnicity'") }} as hispanic_ethnicity,
        {{ clever_yn("role_attributes ->> 'ell_status'") }} as ell_status,
        {{ clever_yn("role_attributes ->> 'gifted_status'") }} as gifted_status,
        {{ clever_yn("role_attributes ->> 'section_504_status'") }} as section_504_status,
        {{ clever_text("role_attributes ->> 'iep_status'") }} as iep_status,
        {{ clever_text("role_attributes ->> 'frl_status'") }} as frl_status,
        {{ clever_text("role_attributes ->> 'home_language'") }} as home_language,
        {{ clever_text("role_attributes ->> 'home_language_code'") }} as home_language_code,
        {{ clever_yn("role_attributes -> 'disability' ->> 'disability_status'") }} as disability_status,
        {{ clever_text("role_attributes -> 'disability' ->> 'disability_code'") }} as disability_code,
        {{ clever_text("role_attributes -> 'disability' ->> 'disability_type'") }} as disability_type,
        {{ clever_text("role_attributes -> 'location' ->> 'city'") }} as city,
        {{ clever_text("role_attributes -> 'location' ->> 'state'") }} as state,
        {{ clever_text("role_attributes -> 'location' ->> 'zip'") }} as zip,
        role_attributes -> 'enrollments' as enrollments,
        role_attributes -> 'ext' as ext,
        -- As sent, for the tests that count values that did not parse.
        role_attributes ->> 'dob' as dob_text,
        role_attributes ->> 'hispanic_ethnicity' as hispanic_ethnicity_text,
        role_attributes ->> 'ell_status' as ell_status_text,
        role_attributes ->> 'gifted_status' as gifted_status_text,
        role_attributes ->> 'section_504_status' as section_504_status_text,
        role_attributes -> 'disability' ->> 'disability_status' as disability_status_text,
        coalesce({{ clever_timestamp("role_attributes ->> 'created'") }}, created_at) as created_at,
        coalesce({{ clever_timestamp("role_attributes ->> 'last_modified'") }}, last_modified_at) as last_modified_at
    from student_roles
)

select * from students
