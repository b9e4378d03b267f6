//! E-mail templates manager, SMS account settings, the outbox view.

super::messages! {
    "messaging.placeholder" => "-", "-";
}
