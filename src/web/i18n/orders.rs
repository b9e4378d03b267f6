//! Payment orders: forms, list, detail, actions, templates, SMS settings.

super::messages! {
    "orders.placeholder" => "-", "-";
}
