//! One schema for both backends, in portable SQL types only (see db/mod.rs).

diesel::table! {
    companies (id) {
        id -> BigInt,
        name -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    shops (id) {
        id -> BigInt,
        company_id -> BigInt,
        label -> Text,
        slug -> Text,
        url -> Text,
        contact_email -> Text,
        time_zone -> Text,
        test_key_hash -> Text,
        test_key_hint -> Text,
        production_key_hash -> Text,
        production_key_hint -> Text,
        validity_days -> Integer,
        reference_mandatory -> Bool,
        validation_mode -> Text,
        capture_delay_days -> Integer,
        three_ds -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    users (id) {
        id -> BigInt,
        company_id -> BigInt,
        login -> Text,
        email -> Text,
        full_name -> Text,
        role -> Text,
        can_test -> Bool,
        password_hash -> Text,
        password_is_temporary -> Bool,
        first_login_code_hash -> Text,
        failed_logins -> Integer,
        locked_at -> Nullable<Timestamp>,
        last_login_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    user_shops (user_id, shop_id) {
        user_id -> BigInt,
        shop_id -> BigInt,
    }
}

diesel::table! {
    web_sessions (key_hash) {
        key_hash -> Text,
        user_id -> Nullable<BigInt>,
        state -> Text,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    audit_log (id) {
        id -> BigInt,
        company_id -> Nullable<BigInt>,
        shop_id -> Nullable<BigInt>,
        user_id -> Nullable<BigInt>,
        actor -> Text,
        ip -> Nullable<Text>,
        action -> Text,
        target -> Text,
        detail -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    worker_heartbeats (name) {
        name -> Text,
        beat_at -> Timestamp,
    }
}

diesel::joinable!(shops -> companies (company_id));
diesel::joinable!(users -> companies (company_id));
diesel::joinable!(user_shops -> users (user_id));
diesel::joinable!(user_shops -> shops (shop_id));

diesel::allow_tables_to_appear_in_same_query!(
    companies,
    shops,
    users,
    user_shops,
    web_sessions,
    audit_log,
    worker_heartbeats,
);
