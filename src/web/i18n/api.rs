//! REST API error messages.

super::messages! {
    "api.placeholder" => "-", "-";
}
