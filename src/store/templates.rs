//! E-mail templates, per shop and language, one default per language.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::QueryResult;
use crate::db::DbConn;
use crate::db::schema::email_templates as et;
use crate::domain::ids::{ShopId, TemplateId};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = et)]
pub struct Template {
    pub id: i64,
    pub shop_id: i64,
    pub name: String,
    pub language: String,
    pub subject: String,
    pub body: String,
    pub is_default: bool,
}

pub struct NewTemplate<'a> {
    pub name: &'a str,
    pub language: &'a str,
    pub subject: &'a str,
    pub body: &'a str,
    pub is_default: bool,
}

pub fn insert(conn: &mut DbConn, shop: ShopId, t: &NewTemplate<'_>, now: NaiveDateTime) -> QueryResult<TemplateId> {
    if t.is_default {
        clear_default(conn, shop, t.language)?;
    }
    diesel::insert_into(et::table)
        .values((
            et::shop_id.eq(shop.0),
            et::name.eq(t.name),
            et::language.eq(t.language),
            et::subject.eq(t.subject),
            et::body.eq(t.body),
            et::is_default.eq(t.is_default),
            et::created_at.eq(now),
            et::updated_at.eq(now),
        ))
        .returning(et::id)
        .get_result(conn)
        .map(TemplateId)
}

pub fn update(
    conn: &mut DbConn,
    shop: ShopId,
    id: TemplateId,
    t: &NewTemplate<'_>,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    if t.is_default {
        clear_default(conn, shop, t.language)?;
    }
    diesel::update(et::table.filter(et::id.eq(id.0).and(et::shop_id.eq(shop.0))))
        .set((
            et::name.eq(t.name),
            et::language.eq(t.language),
            et::subject.eq(t.subject),
            et::body.eq(t.body),
            et::is_default.eq(t.is_default),
            et::updated_at.eq(now),
        ))
        .execute(conn)
}

fn clear_default(conn: &mut DbConn, shop: ShopId, language: &str) -> QueryResult<usize> {
    diesel::update(et::table.filter(et::shop_id.eq(shop.0).and(et::language.eq(language))))
        .set(et::is_default.eq(false))
        .execute(conn)
}

pub fn delete(conn: &mut DbConn, shop: ShopId, id: TemplateId) -> QueryResult<usize> {
    diesel::delete(et::table.filter(et::id.eq(id.0).and(et::shop_id.eq(shop.0)))).execute(conn)
}

pub fn find(conn: &mut DbConn, shop: ShopId, id: TemplateId) -> QueryResult<Option<Template>> {
    et::table.filter(et::id.eq(id.0).and(et::shop_id.eq(shop.0))).select(Template::as_select()).first(conn).optional()
}

pub fn list(conn: &mut DbConn, shop: ShopId) -> QueryResult<Vec<Template>> {
    et::table.filter(et::shop_id.eq(shop.0)).order((et::language, et::name)).select(Template::as_select()).load(conn)
}

/// The default template of a language, else any template of it.
pub fn default_for(conn: &mut DbConn, shop: ShopId, language: &str) -> QueryResult<Option<Template>> {
    et::table
        .filter(et::shop_id.eq(shop.0).and(et::language.eq(language)))
        .order((et::is_default.desc(), et::id))
        .select(Template::as_select())
        .first(conn)
        .optional()
}
