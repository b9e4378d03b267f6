//! The buyer side: payment link pages.

super::messages! {
    "pay.placeholder" => "-", "-";
}
