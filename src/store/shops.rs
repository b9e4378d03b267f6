use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::QueryResult;
use crate::db::DbConn;
use crate::db::schema::{companies, shops, user_shops};
use crate::domain::api_key::Mode;
use crate::domain::ids::{CompanyId, ShopId, UserId};
pub use crate::domain::shop::Shop;
use crate::domain::shop::{OrderDefaults, ShopSettings, ThreeDsPreference, ValidationMode};

#[derive(Queryable, Selectable)]
#[diesel(table_name = shops)]
pub(crate) struct ShopRow {
    id: i64,
    company_id: i64,
    label: String,
    slug: String,
    url: String,
    contact_email: String,
    time_zone: String,
    test_key_hint: String,
    production_key_hint: String,
    validity_days: i32,
    reference_mandatory: bool,
    validation_mode: String,
    capture_delay_days: i32,
    three_ds: String,
}

impl From<ShopRow> for Shop {
    fn from(r: ShopRow) -> Self {
        Shop {
            id: ShopId(r.id),
            company_id: CompanyId(r.company_id),
            slug: r.slug,
            test_key_hint: r.test_key_hint,
            production_key_hint: r.production_key_hint,
            settings: ShopSettings {
                label: r.label,
                url: r.url,
                contact_email: r.contact_email,
                time_zone: r.time_zone.parse().unwrap_or(chrono_tz::Europe::Paris),
                defaults: OrderDefaults {
                    validity_days: r.validity_days,
                    reference_mandatory: r.reference_mandatory,
                    validation_mode: ValidationMode::parse(&r.validation_mode).unwrap_or(ValidationMode::Auto),
                    capture_delay_days: r.capture_delay_days,
                    three_ds: ThreeDsPreference::parse(&r.three_ds).unwrap_or(ThreeDsPreference::NoPreference),
                },
            },
        }
    }
}

pub fn insert_company(conn: &mut DbConn, name: &str, now: NaiveDateTime) -> QueryResult<CompanyId> {
    diesel::insert_into(companies::table)
        .values((companies::name.eq(name), companies::created_at.eq(now)))
        .returning(companies::id)
        .get_result(conn)
        .map(CompanyId)
}

pub fn company_name(conn: &mut DbConn, company: CompanyId) -> QueryResult<String> {
    companies::table.find(company.0).select(companies::name).first(conn)
}

pub struct NewShop<'a> {
    pub company_id: CompanyId,
    pub slug: &'a str,
    pub settings: &'a ShopSettings,
    pub test_key: (String, String),
    pub production_key: (String, String),
}

pub fn insert(conn: &mut DbConn, shop: NewShop<'_>, now: NaiveDateTime) -> QueryResult<ShopId> {
    let s = shop.settings;
    diesel::insert_into(shops::table)
        .values((
            shops::company_id.eq(shop.company_id.0),
            shops::label.eq(&s.label),
            shops::slug.eq(shop.slug),
            shops::url.eq(&s.url),
            shops::contact_email.eq(&s.contact_email),
            shops::time_zone.eq(s.time_zone.name()),
            shops::test_key_hash.eq(&shop.test_key.0),
            shops::test_key_hint.eq(&shop.test_key.1),
            shops::production_key_hash.eq(&shop.production_key.0),
            shops::production_key_hint.eq(&shop.production_key.1),
            shops::validity_days.eq(s.defaults.validity_days),
            shops::reference_mandatory.eq(s.defaults.reference_mandatory),
            shops::validation_mode.eq(s.defaults.validation_mode.as_str()),
            shops::capture_delay_days.eq(s.defaults.capture_delay_days),
            shops::three_ds.eq(s.defaults.three_ds.as_str()),
            shops::created_at.eq(now),
            shops::updated_at.eq(now),
        ))
        .returning(shops::id)
        .get_result(conn)
        .map(ShopId)
}

pub fn slug_taken(conn: &mut DbConn, slug: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(shops::table.filter(shops::slug.eq(slug)))).get_result(conn)
}

/// A shop of this company, or nothing.
pub fn find(conn: &mut DbConn, company: CompanyId, id: ShopId) -> QueryResult<Option<Shop>> {
    shops::table
        .filter(shops::id.eq(id.0).and(shops::company_id.eq(company.0)))
        .select(ShopRow::as_select())
        .first(conn)
        .optional()
        .map(|r| r.map(Shop::from))
}

/// A shop with the SHA-256 of its TEST and PRODUCTION API keys: the API authenticates
/// against them (any shop id; the key proves the caller's right to it).
pub struct ShopKeys {
    pub shop: Shop,
    pub test_key_hash: String,
    pub production_key_hash: String,
}

pub fn find_with_key_hashes(conn: &mut DbConn, id: ShopId) -> QueryResult<Option<ShopKeys>> {
    shops::table
        .find(id.0)
        .select((ShopRow::as_select(), shops::test_key_hash, shops::production_key_hash))
        .first::<(ShopRow, String, String)>(conn)
        .optional()
        .map(|r| {
            r.map(|(row, test_key_hash, production_key_hash)| ShopKeys {
                shop: Shop::from(row),
                test_key_hash,
                production_key_hash,
            })
        })
}

pub fn list_for_company(conn: &mut DbConn, company: CompanyId) -> QueryResult<Vec<Shop>> {
    shops::table
        .filter(shops::company_id.eq(company.0))
        .order(shops::id)
        .select(ShopRow::as_select())
        .load(conn)
        .map(|rows| rows.into_iter().map(Shop::from).collect())
}

/// Shops a user has rights on, in creation order.
pub fn list_for_user(conn: &mut DbConn, user: UserId) -> QueryResult<Vec<Shop>> {
    shops::table
        .inner_join(user_shops::table)
        .filter(user_shops::user_id.eq(user.0))
        .order(shops::id)
        .select(ShopRow::as_select())
        .load(conn)
        .map(|rows| rows.into_iter().map(Shop::from).collect())
}

pub fn update_settings(
    conn: &mut DbConn,
    company: CompanyId,
    id: ShopId,
    s: &ShopSettings,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(shops::table.filter(shops::id.eq(id.0).and(shops::company_id.eq(company.0))))
        .set((
            shops::label.eq(&s.label),
            shops::url.eq(&s.url),
            shops::contact_email.eq(&s.contact_email),
            shops::time_zone.eq(s.time_zone.name()),
            shops::validity_days.eq(s.defaults.validity_days),
            shops::reference_mandatory.eq(s.defaults.reference_mandatory),
            shops::validation_mode.eq(s.defaults.validation_mode.as_str()),
            shops::capture_delay_days.eq(s.defaults.capture_delay_days),
            shops::three_ds.eq(s.defaults.three_ds.as_str()),
            shops::updated_at.eq(now),
        ))
        .execute(conn)
}

pub fn replace_key(
    conn: &mut DbConn,
    company: CompanyId,
    id: ShopId,
    mode: Mode,
    hash: &str,
    hint: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    let target = shops::table.filter(shops::id.eq(id.0).and(shops::company_id.eq(company.0)));
    match mode {
        Mode::Test => diesel::update(target)
            .set((shops::test_key_hash.eq(hash), shops::test_key_hint.eq(hint), shops::updated_at.eq(now)))
            .execute(conn),
        Mode::Production => diesel::update(target)
            .set((shops::production_key_hash.eq(hash), shops::production_key_hint.eq(hint), shops::updated_at.eq(now)))
            .execute(conn),
    }
}

pub fn count(conn: &mut DbConn) -> QueryResult<i64> {
    shops::table.count().get_result(conn)
}
