//! Diesel table definitions, identical for SQLite and PostgreSQL (see `migrations/`).
//! The search_* tables have no primary key of their own; `rkey` is named as diesel's key only
//! because `table!` needs one: rows are inserted and deleted by rkey, never updated.

diesel::table! {
    resources (rkey) {
        rkey -> BigInt,
        res_type -> Text,
        res_id -> Text,
        version -> BigInt,
        last_updated -> BigInt,
        deleted -> Bool,
        content -> Nullable<Text>,
        institution -> Nullable<Text>,
        patient_key -> Nullable<Text>,
        retention_class -> Nullable<Text>,
        expires_at -> Nullable<BigInt>,
        retention_group -> Nullable<Text>,
        access_category -> Nullable<Text>,
        hidden -> Nullable<Text>,
        person_key -> Nullable<Text>,
    }
}

diesel::table! {
    resource_versions (rkey, version) {
        rkey -> BigInt,
        version -> BigInt,
        res_type -> Text,
        res_id -> Text,
        last_updated -> BigInt,
        method -> Text,
        deleted -> Bool,
        content -> Nullable<Text>,
        institution -> Nullable<Text>,
        patient_key -> Nullable<Text>,
        person_key -> Nullable<Text>,
        access_category -> Nullable<Text>,
        hidden -> Nullable<Text>,
    }
}

diesel::table! {
    search_token (rkey) {
        rkey -> BigInt,
        res_type -> Text,
        param -> Text,
        system -> Nullable<Text>,
        code -> Text,
    }
}

diesel::table! {
    search_string (rkey) {
        rkey -> BigInt,
        res_type -> Text,
        param -> Text,
        normalized -> Text,
        exact -> Text,
    }
}

diesel::table! {
    search_date (rkey) {
        rkey -> BigInt,
        res_type -> Text,
        param -> Text,
        start_at -> BigInt,
        end_at -> BigInt,
    }
}

diesel::table! {
    search_reference (rkey) {
        rkey -> BigInt,
        res_type -> Text,
        param -> Text,
        target_type -> Text,
        target_id -> Text,
    }
}

diesel::table! {
    search_number (rkey) {
        rkey -> BigInt,
        res_type -> Text,
        param -> Text,
        value -> Double,
    }
}

diesel::table! {
    search_quantity (rkey) {
        rkey -> BigInt,
        res_type -> Text,
        param -> Text,
        system -> Nullable<Text>,
        code -> Nullable<Text>,
        value -> Double,
        canon_unit -> Nullable<Text>,
        canon_value -> Nullable<Double>,
    }
}

diesel::table! {
    search_quantity_pair (rkey) {
        rkey -> BigInt,
        res_type -> Text,
        param -> Text,
        comp_system -> Nullable<Text>,
        comp_code -> Text,
        system -> Nullable<Text>,
        code -> Nullable<Text>,
        value -> Double,
        canon_unit -> Nullable<Text>,
        canon_value -> Nullable<Double>,
    }
}

diesel::table! {
    search_uri (rkey) {
        rkey -> BigInt,
        res_type -> Text,
        param -> Text,
        uri -> Text,
    }
}

diesel::table! {
    search_token_pair (rkey) {
        rkey -> BigInt,
        res_type -> Text,
        param -> Text,
        system -> Nullable<Text>,
        code -> Text,
        value_system -> Nullable<Text>,
        value_code -> Text,
    }
}

diesel::table! {
    search_index_version (id) {
        id -> Integer,
        version -> BigInt,
    }
}

diesel::table! {
    code_systems (id) {
        id -> BigInt,
        url -> Text,
        version -> Nullable<Text>,
        name -> Text,
        content -> Text,
        case_sensitive -> Bool,
        value_sets -> Text,
        source -> Text,
        imported_at -> BigInt,
        concept_count -> BigInt,
    }
}

diesel::table! {
    code_system_concepts (system_id, seq) {
        system_id -> BigInt,
        seq -> BigInt,
        code -> Text,
        display -> Nullable<Text>,
        parent -> Nullable<Text>,
    }
}

diesel::table! {
    value_sets (id) {
        id -> BigInt,
        url -> Text,
        version -> Nullable<Text>,
        source -> Text,
        imported_at -> BigInt,
        content -> Text,
    }
}

diesel::table! {
    terminology_imports (id) {
        id -> BigInt,
        kind -> Text,
        url -> Text,
        version -> Nullable<Text>,
        source -> Text,
        imported_at -> BigInt,
        concept_count -> BigInt,
    }
}

diesel::table! {
    report_units (unit_key) {
        unit_key -> Text,
        patient_identifier -> Text,
        bundle_identifier -> Text,
        institution -> Text,
        resource_type -> Text,
        bundle_id -> Text,
        patient_id -> Text,
        registered_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    report_unit_members (unit_key, res_type, res_id) {
        unit_key -> Text,
        res_type -> Text,
        res_id -> Text,
        member_identifier -> Nullable<Text>,
    }
}

diesel::table! {
    purge_runs (id) {
        id -> BigInt,
        started_at -> BigInt,
        finished_at -> Nullable<BigInt>,
        as_of -> BigInt,
        dry_run -> Bool,
        counts -> Text,
    }
}

diesel::table! {
    documents (document_key) {
        document_key -> Text,
        kind -> Text,
        institution -> Text,
        document_identifier -> Text,
        version -> Text,
        status -> Text,
        bundle_identifier -> Text,
        bundle_id -> Text,
        patient_identifier -> Text,
        patient_id -> Text,
        recipient -> Nullable<Text>,
        registered_at -> BigInt,
        updated_at -> BigInt,
        received_at -> Nullable<BigInt>,
        received_by -> Nullable<Text>,
    }
}

diesel::table! {
    purged_resources (run_id, res_type, res_id) {
        run_id -> BigInt,
        res_type -> Text,
        res_id -> Text,
        rule -> Text,
        purged_at -> BigInt,
    }
}

diesel::table! {
    document_members (document_key, res_type, res_id) {
        document_key -> Text,
        res_type -> Text,
        res_id -> Text,
        member_identifier -> Nullable<Text>,
    }
}

diesel::table! {
    consents (rkey, category) {
        rkey -> BigInt,
        patient_key -> Text,
        institution -> Text,
        category -> Text,
        active -> Bool,
        period_start -> Nullable<BigInt>,
        period_end -> Nullable<BigInt>,
        person_key -> Nullable<Text>,
    }
}

diesel::table! {
    audit_events (id) {
        id -> Text,
        recorded -> BigInt,
        action -> Text,
        interaction -> Text,
        outcome -> Text,
        detail -> Nullable<Text>,
        role -> Text,
        agent_name -> Text,
        institution -> Nullable<Text>,
        emergency -> Bool,
        emergency_reason -> Nullable<Text>,
        emergency_method -> Nullable<Text>,
        res_type -> Nullable<Text>,
        res_id -> Nullable<Text>,
        entity_type -> Nullable<Text>,
        entity_id -> Nullable<Text>,
        patient_key -> Nullable<Text>,
        entities -> Nullable<Text>,
    }
}

diesel::table! {
    audit_patients_recent (seq) {
        seq -> BigInt,
        patient_key -> Text,
        event_id -> Text,
    }
}

diesel::table! {
    audit_patients (patient_key, event_id) {
        patient_key -> Text,
        event_id -> Text,
    }
}

diesel::joinable!(resource_versions -> resources (rkey));
diesel::joinable!(consents -> resources (rkey));
diesel::joinable!(code_system_concepts -> code_systems (system_id));
diesel::allow_tables_to_appear_in_same_query!(
    resources,
    resource_versions,
    search_token,
    search_string,
    search_date,
    search_reference,
    search_number,
    search_quantity,
    search_quantity_pair,
    search_uri,
    search_token_pair,
    search_index_version,
    code_systems,
    code_system_concepts,
    value_sets,
    terminology_imports,
    report_units,
    report_unit_members,
    purge_runs,
    purged_resources,
    documents,
    document_members,
    consents,
    audit_events,
    audit_patients_recent,
    audit_patients,
);
