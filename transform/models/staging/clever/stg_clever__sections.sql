with source as (
    select * from {{ source('clever', 'sections') }}
),

renamed as (
    select
        id as section_id,
        district as district_id,
        school as school_id,
        {{ clever_text('course') }} as course_id,
        {{ clever_text('term_id') }} as term_id,
        {{ clever_text('teacher') }} as primary_teacher_id,
        {{ clever_id_list('teachers') }} as teacher_ids,
        {{ clever_id_list('students') }} as student_ids,
        {{ clever_text('name') }} as name,
        {{ clever_text('subject') }} as subject,
        {{ clever_text('grade') }} as grade,
        {{ clever_text('period') }} as period,
        {{ clever_text('section_number') }} as section_number,
        {{ clever_text('sis_id') }} as sis_id,
        ext,
        cast(created as timestamp) as created_at,
        cast(last_modified as timestamp) as last_modified_at,
        -- The tap's snapshot this version was read in (sortable: the snapshot's start).
        _clever_snapshot_id as snapshot_id,
        _sdc_extracted_at as extracted_at,
        _sdc_batched_at as loaded_at,
        {{ clever_timestamp('_sdc_deleted_at') }} as deleted_at
    from source
)

select * from renamed
