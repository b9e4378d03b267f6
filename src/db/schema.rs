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
        validation_days -> Integer,
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
        orders_columns -> Nullable<Text>,
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

diesel::table! {
    collect_forms (shop_id) {
        shop_id -> BigInt,
        enabled -> Bool,
        production -> Bool,
        title -> Nullable<Text>,
        intro -> Nullable<Text>,
        fields -> Text,
        info1_label -> Nullable<Text>,
        info1_hint -> Nullable<Text>,
        info1_required -> Bool,
        info1_min -> Integer,
        info1_max -> Integer,
        info2_label -> Nullable<Text>,
        info2_hint -> Nullable<Text>,
        info2_required -> Bool,
        info2_min -> Integer,
        info2_max -> Integer,
        info3_label -> Nullable<Text>,
        info3_hint -> Nullable<Text>,
        info3_required -> Bool,
        info3_min -> Integer,
        info3_max -> Integer,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    buyer_data (order_id) {
        order_id -> BigInt,
        last_name -> Nullable<Text>,
        first_name -> Nullable<Text>,
        email -> Nullable<Text>,
        phone -> Nullable<Text>,
        address -> Nullable<Text>,
        postal_code -> Nullable<Text>,
        city -> Nullable<Text>,
        country -> Nullable<Text>,
        info1 -> Nullable<Text>,
        info2 -> Nullable<Text>,
        info3 -> Nullable<Text>,
        created_at -> Timestamp,
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

diesel::table! {
    payment_orders (id) {
        id -> BigInt,
        shop_id -> BigInt,
        mode -> Text,
        channel -> Text,
        token -> Text,
        reference -> Nullable<Text>,
        amount -> BigInt,
        currency -> Text,
        language -> Text,
        validation_mode -> Text,
        capture_delay_days -> Integer,
        expires_on -> Date,
        expires_at -> Timestamp,
        alias_mode -> Text,
        three_ds -> Text,
        buyer_email -> Nullable<Text>,
        use_collection_form -> Bool,
        description -> Nullable<Text>,
        recipient -> Nullable<Text>,
        bcc -> Nullable<Text>,
        subject -> Nullable<Text>,
        message -> Nullable<Text>,
        status -> Text,
        delivery_status -> Text,
        send_count -> Integer,
        transaction_id -> Nullable<BigInt>,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        pay_lock -> Nullable<Text>,
        pay_lock_until -> Nullable<Timestamp>,
        instalments_until -> Nullable<Date>,
    }
}

diesel::table! {
    outbox (id) {
        id -> BigInt,
        shop_id -> BigInt,
        order_id -> Nullable<BigInt>,
        kind -> Text,
        payload -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Nullable<Timestamp>,
        locked_until -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
        event_id -> Nullable<BigInt>,
        rule_id -> Nullable<BigInt>,
    }
}

diesel::table! {
    email_templates (id) {
        id -> BigInt,
        shop_id -> BigInt,
        name -> Text,
        language -> Text,
        subject -> Text,
        body -> Text,
        is_default -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    sms_accounts (shop_id) {
        shop_id -> BigInt,
        login -> Text,
        password_enc -> Text,
        default_phone -> Text,
        credits -> Integer,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    idempotency_keys (shop_id, idem_key) {
        shop_id -> BigInt,
        idem_key -> Text,
        request_hash -> Text,
        response_status -> Nullable<Integer>,
        response_body -> Nullable<Text>,
        created_at -> Timestamp,
        holder -> Text,
    }
}

diesel::joinable!(payment_orders -> shops (shop_id));
diesel::joinable!(outbox -> payment_orders (order_id));
diesel::joinable!(email_templates -> shops (shop_id));

diesel::allow_tables_to_appear_in_same_query!(
    payment_orders,
    outbox,
    email_templates,
    sms_accounts,
    idempotency_keys,
    shops
);

diesel::table! {
    transactions (id) {
        id -> BigInt,
        shop_id -> BigInt,
        mode -> Text,
        order_id -> BigInt,
        status -> Text,
        amount -> BigInt,
        currency -> Text,
        refunded_amount -> BigInt,
        card_brand -> Text,
        card_masked -> Text,
        card_expiry -> Text,
        holder -> Nullable<Text>,
        three_ds -> Text,
        return_code -> Text,
        acquirer_ref -> Text,
        source -> Text,
        buyer_email -> Nullable<Text>,
        validation_mode -> Text,
        capture_date -> Nullable<Date>,
        validate_by -> Nullable<Timestamp>,
        captured_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        settling_op -> Nullable<BigInt>,
        refund_pending -> BigInt,
        receipt_no -> Text,
        saved_card -> Nullable<Text>,
        instalment_index -> Nullable<Integer>,
        instalment_count -> Nullable<Integer>,
        service -> Nullable<Text>,
        service_payment_id -> Nullable<Text>,
    }
}

diesel::table! {
    acquirer_operations (id) {
        id -> BigInt,
        shop_id -> BigInt,
        order_id -> BigInt,
        transaction_id -> Nullable<BigInt>,
        mode -> Text,
        kind -> Text,
        op_key -> Text,
        reference -> Text,
        amount -> BigInt,
        currency -> Text,
        status -> Text,
        actor -> Text,
        detail -> Text,
        attempts -> Integer,
        retry_at -> Timestamp,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    transaction_events (id) {
        id -> BigInt,
        transaction_id -> BigInt,
        kind -> Text,
        amount -> Nullable<BigInt>,
        actor -> Text,
        detail -> Text,
        created_at -> Timestamp,
    }
}

diesel::joinable!(transactions -> payment_orders (order_id));
diesel::joinable!(transaction_events -> transactions (transaction_id));
diesel::allow_tables_to_appear_in_same_query!(transactions, transaction_events, payment_orders, acquirer_operations);

diesel::table! {
    shop_logos (shop_id) {
        shop_id -> BigInt,
        content_type -> Text,
        digest -> Text,
        body -> Binary,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    buyers (id) {
        id -> BigInt,
        shop_id -> BigInt,
        email -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    saved_cards (token) {
        token -> Text,
        shop_id -> BigInt,
        mode -> Text,
        buyer_id -> BigInt,
        status -> Text,
        attempt -> Nullable<Text>,
        brand -> Text,
        masked -> Text,
        expiry_month -> Integer,
        expiry_year -> Integer,
        holder -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    wallet_links (token_hash) {
        token_hash -> Text,
        buyer_id -> BigInt,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        session_hash -> Nullable<Text>,
        session_until -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::joinable!(saved_cards -> buyers (buyer_id));
diesel::joinable!(wallet_links -> buyers (buyer_id));
diesel::allow_tables_to_appear_in_same_query!(buyers, saved_cards, wallet_links, shops);

diesel::table! {
    vault_records (token) {
        token -> Text,
        key_id -> Text,
        ciphertext -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    shop_instalments (shop_id) {
        shop_id -> BigInt,
        enabled -> Bool,
        max_count -> Integer,
        first_share_percent -> Nullable<Integer>,
        min_amount -> BigInt,
        interval_days -> Nullable<Integer>,
        retry_days -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    instalment_plans (order_id) {
        order_id -> BigInt,
        shop_id -> BigInt,
        attempt -> Text,
        card_token -> Text,
        card_brand -> Text,
        card_masked -> Text,
        card_expiry -> Text,
        holder -> Nullable<Text>,
        instalment_count -> Integer,
        status -> Text,
        balance_order_id -> Nullable<BigInt>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    instalments (order_id, idx) {
        order_id -> BigInt,
        idx -> Integer,
        due_on -> Date,
        amount -> BigInt,
        status -> Text,
        tries -> Integer,
        next_at -> Timestamp,
        transaction_id -> Nullable<BigInt>,
        last_code -> Nullable<Text>,
        updated_at -> Timestamp,
    }
}

diesel::joinable!(instalments -> instalment_plans (order_id));
diesel::allow_tables_to_appear_in_same_query!(instalment_plans, instalments, payment_orders);

diesel::joinable!(buyer_data -> payment_orders (order_id));
diesel::joinable!(collect_forms -> shops (shop_id));
diesel::allow_tables_to_appear_in_same_query!(buyer_data, payment_orders);
diesel::allow_tables_to_appear_in_same_query!(buyer_data, transactions);
diesel::allow_tables_to_appear_in_same_query!(collect_forms, shops);

diesel::table! {
    imports (id) {
        id -> BigInt,
        shop_id -> BigInt,
        mode -> Text,
        status -> Text,
        total -> Integer,
        created -> Integer,
        errors -> Text,
        sha256 -> Text,
        source -> Nullable<Text>,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::joinable!(imports -> shops (shop_id));

diesel::table! {
    notification_rules (id) {
        id -> BigInt,
        shop_id -> BigInt,
        kind -> Text,
        label -> Text,
        events -> Text,
        channels -> Text,
        modes -> Text,
        from_order_only -> Bool,
        failure_email -> Nullable<Text>,
        auto_retry -> Bool,
        url_test -> Nullable<Text>,
        url_production -> Nullable<Text>,
        secret_enc -> Nullable<Text>,
        previous_secret_enc -> Nullable<Text>,
        previous_until -> Nullable<Timestamp>,
        enabled -> Bool,
        disabled_reason -> Nullable<Text>,
        deleted -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    events (id) {
        id -> BigInt,
        public_id -> Text,
        shop_id -> BigInt,
        mode -> Text,
        event_type -> Text,
        order_id -> Nullable<BigInt>,
        transaction_id -> Nullable<BigInt>,
        body -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    webhook_attempts (id) {
        id -> BigInt,
        outbox_id -> BigInt,
        event_id -> BigInt,
        url -> Text,
        attempted_at -> Timestamp,
        status_code -> Nullable<Integer>,
        duration_ms -> Integer,
        response -> Text,
        error -> Nullable<Text>,
    }
}

diesel::allow_tables_to_appear_in_same_query!(events, outbox, notification_rules, webhook_attempts);

diesel::table! {
    payment_services (id) {
        id -> BigInt,
        shop_id -> BigInt,
        service -> Text,
        mode -> Text,
        credentials_enc -> Nullable<Text>,
        credentials_mask -> Text,
        base_url -> Text,
        display_name -> Text,
        is_default -> Bool,
        checked_at -> Nullable<Timestamp>,
        check_result -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    service_requests (id) {
        id -> BigInt,
        public_id -> Text,
        shop_id -> BigInt,
        order_id -> BigInt,
        mode -> Text,
        service -> Text,
        status -> Text,
        raw_status -> Nullable<Text>,
        service_payment_id -> Nullable<Text>,
        checkout_url -> Nullable<Text>,
        refund_ref -> Nullable<Text>,
        amount -> BigInt,
        currency -> Text,
        first_name -> Nullable<Text>,
        last_name -> Nullable<Text>,
        transaction_id -> Nullable<BigInt>,
        expires_at -> Timestamp,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    service_calls (id) {
        id -> BigInt,
        shop_id -> BigInt,
        request_id -> Nullable<BigInt>,
        service -> Text,
        mode -> Text,
        operation -> Text,
        method -> Text,
        url -> Text,
        request -> Text,
        status -> Nullable<Integer>,
        response -> Text,
        duration_ms -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    order_services (order_id) {
        order_id -> BigInt,
        service -> Text,
    }
}

diesel::allow_tables_to_appear_in_same_query!(payment_services, service_requests, service_calls, order_services);
