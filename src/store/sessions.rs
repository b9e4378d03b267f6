//! Back-office sessions, kept server-side so that logout and idle expiry really end them.
//! Only a SHA-256 of the session key is stored: a database dump opens no session.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::QueryResult;
use crate::db::DbConn;
use crate::db::schema::{web_sessions, worker_heartbeats};
use crate::domain::ids::UserId;

pub fn load(conn: &mut DbConn, key_hash: &str, now: NaiveDateTime) -> QueryResult<Option<String>> {
    web_sessions::table
        .filter(web_sessions::key_hash.eq(key_hash).and(web_sessions::expires_at.gt(now)))
        .select(web_sessions::state)
        .first(conn)
        .optional()
}

pub fn insert(
    conn: &mut DbConn,
    key_hash: &str,
    user: Option<UserId>,
    state: &str,
    expires_at: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(web_sessions::table)
        .values((
            web_sessions::key_hash.eq(key_hash),
            web_sessions::user_id.eq(user.map(|u| u.0)),
            web_sessions::state.eq(state),
            web_sessions::expires_at.eq(expires_at),
        ))
        .execute(conn)
        .map(|_| ())
}

pub fn update(
    conn: &mut DbConn,
    key_hash: &str,
    user: Option<UserId>,
    state: &str,
    expires_at: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(web_sessions::table.find(key_hash))
        .set((
            web_sessions::user_id.eq(user.map(|u| u.0)),
            web_sessions::state.eq(state),
            web_sessions::expires_at.eq(expires_at),
        ))
        .execute(conn)
}

pub fn touch(conn: &mut DbConn, key_hash: &str, expires_at: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(web_sessions::table.find(key_hash)).set(web_sessions::expires_at.eq(expires_at)).execute(conn)
}

pub fn delete(conn: &mut DbConn, key_hash: &str) -> QueryResult<usize> {
    diesel::delete(web_sessions::table.find(key_hash)).execute(conn)
}

/// Ends every session of a user (password reset, lock).
pub fn delete_for_user(conn: &mut DbConn, user: UserId) -> QueryResult<usize> {
    diesel::delete(web_sessions::table.filter(web_sessions::user_id.eq(user.0))).execute(conn)
}

pub fn purge_expired(conn: &mut DbConn, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(web_sessions::table.filter(web_sessions::expires_at.le(now))).execute(conn)
}

pub fn count_for_user(conn: &mut DbConn, user: UserId, now: NaiveDateTime) -> QueryResult<i64> {
    web_sessions::table
        .filter(web_sessions::user_id.eq(user.0).and(web_sessions::expires_at.gt(now)))
        .count()
        .get_result(conn)
}

pub fn beat(conn: &mut DbConn, name: &str, now: NaiveDateTime) -> QueryResult<()> {
    // One upsert: two workers starting on a fresh database would both insert after an update
    // that found nothing (seen on PostgreSQL as a duplicate key).
    crate::db::on_backend!(conn, |c| {
        diesel::insert_into(worker_heartbeats::table)
            .values((worker_heartbeats::name.eq(name), worker_heartbeats::beat_at.eq(now)))
            .on_conflict(worker_heartbeats::name)
            .do_update()
            .set(worker_heartbeats::beat_at.eq(now))
            .execute(c)
    })?;
    Ok(())
}

pub fn last_beat(conn: &mut DbConn, name: &str) -> QueryResult<Option<NaiveDateTime>> {
    worker_heartbeats::table.find(name).select(worker_heartbeats::beat_at).first(conn).optional()
}
