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

diesel::joinable!(resource_versions -> resources (rkey));
diesel::allow_tables_to_appear_in_same_query!(
    resources,
    resource_versions,
    search_token,
    search_string,
    search_date,
    search_reference,
);
