//! The single integration-test binary: every module shares one build and one link.
//! Run on SQLite by default; `PAYLINK_TEST_BACKEND=postgres` runs the same tests on a fresh
//! PostgreSQL database per test (`scripts/test` does both passes).

mod helpers;

mod acquirer;
mod api;
mod app_wallet;
mod architecture;
mod auth;
mod browser;
mod cards;
mod cli;
mod cluster;
mod collect;
mod collect_settings;
mod delivery;
mod hardening;
mod imports;
mod instalments;
mod lists;
mod messaging;
mod notifications;
mod ops;
mod orders_ui;
mod pay;
mod psp;
mod psp_fake;
mod psp_flow;
mod routes;
mod schedules;
mod schema;
mod security;
mod settings;
mod transactions;
mod users;
mod webhooks;
