//! paylink: self-hosted payment links. The binary (`main.rs`) is a thin CLI over this
//! library, so integration tests start the very same application on a random port.

pub mod acquirer;
pub mod app;
pub mod cli;
pub mod config;
pub mod db;
pub mod delivery;
pub mod domain;
pub mod i18n;
pub mod services;
pub mod store;
pub mod web;
