//! E-mail templates: preloaded defaults, create, duplicate, delete, one default per language.

use super::{ServiceError, ServiceResult};
use crate::db::DbConn;
use crate::domain::FieldError;
use crate::domain::clock::Clock;
use crate::domain::ids::{ShopId, TemplateId};
use crate::domain::template::{check_subject, default_emails, sanitize_body};
use crate::store::audit::{self, Actor, Entry};
use crate::store::templates::{self as store, NewTemplate};

/// A shop's e-mail template, as the screens show and offer it.
#[derive(Debug, Clone)]
pub struct MailTemplate {
    pub id: i64,
    pub name: String,
    pub language: String,
    pub subject: String,
    pub body: String,
    pub is_default: bool,
}

impl From<store::Template> for MailTemplate {
    fn from(t: store::Template) -> Self {
        MailTemplate {
            id: t.id,
            name: t.name,
            language: t.language,
            subject: t.subject,
            body: t.body,
            is_default: t.is_default,
        }
    }
}

/// Gives a new shop the default template of each buyer language.
pub fn preload(conn: &mut DbConn, clock: &dyn Clock, shop: ShopId) -> ServiceResult<()> {
    for t in default_emails() {
        store::insert(
            conn,
            shop,
            &NewTemplate { name: t.name, language: t.language, subject: t.subject, body: t.body, is_default: true },
            clock.now_naive(),
        )?;
    }
    Ok(())
}

#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct RawTemplate {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub language: String,
    #[serde(default)]
    pub subject: String,
    #[serde(default)]
    pub body: String,
    #[serde(default)]
    pub is_default: Option<String>,
}

pub struct CleanTemplate {
    pub name: String,
    pub language: &'static str,
    pub subject: String,
    pub body: String,
    pub is_default: bool,
}

pub fn parse(raw: &RawTemplate) -> Result<CleanTemplate, Vec<FieldError>> {
    let mut errors = Vec::new();
    let name = raw.name.trim().to_string();
    if name.is_empty() || name.chars().count() > 80 {
        errors.push(FieldError::new("name", "template.name.invalid"));
    }
    let language = match raw.language.trim() {
        "fr" => "fr",
        "en" => "en",
        _ => {
            errors.push(FieldError::new("language", "field.choice.invalid"));
            "fr"
        }
    };
    let subject = check_subject(&raw.subject).map_err(|e| errors.push(e)).unwrap_or_default();
    if raw.body.trim().is_empty() {
        errors.push(FieldError::new("body", "field.required"));
    } else if raw.body.len() > 100_000 {
        errors.push(FieldError::new("body", "field.too_long"));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(CleanTemplate {
        name,
        language,
        subject,
        body: sanitize_body(&raw.body),
        is_default: raw.is_default.as_deref().is_some_and(|v| v == "on" || v == "true"),
    })
}

fn audit_entry(
    conn: &mut DbConn,
    clock: &dyn Clock,
    actor: &Actor,
    shop: ShopId,
    action: &str,
    name: &str,
) -> ServiceResult<()> {
    audit::append(
        conn,
        actor,
        Entry { shop_id: Some(shop), action, target: &format!("template:{name}"), detail: "" },
        clock.now_naive(),
    )?;
    Ok(())
}

pub fn save(
    conn: &mut DbConn,
    clock: &dyn Clock,
    actor: &Actor,
    shop: ShopId,
    id: Option<TemplateId>,
    t: &CleanTemplate,
) -> ServiceResult<TemplateId> {
    let new = NewTemplate {
        name: &t.name,
        language: t.language,
        subject: &t.subject,
        body: &t.body,
        is_default: t.is_default,
    };
    let id = match id {
        Some(id) => {
            let before = store::find(conn, shop, id)?.ok_or(ServiceError::NotFound)?;
            store::update(conn, shop, id, &new, clock.now_naive())?;
            // A default moved to another language leaves its old language one of its others.
            if before.language != t.language {
                keep_a_default(conn, clock, shop, &before.language, None)?;
            }
            audit_entry(conn, clock, actor, shop, "template.updated", &t.name)?;
            id
        }
        None => {
            let id = store::insert(conn, shop, &new, clock.now_naive())?;
            audit_entry(conn, clock, actor, shop, "template.created", &t.name)?;
            id
        }
    };
    // An unticked default hands the role to another template of its language, if any.
    let unticked = (!t.is_default).then_some(id);
    keep_a_default(conn, clock, shop, t.language, unticked)?;
    Ok(id)
}

/// A language keeps a default while it has templates: when none is marked, the oldest one
/// becomes it, other than `unticked` (the one just unticked) when there is another.
fn keep_a_default(
    conn: &mut DbConn,
    clock: &dyn Clock,
    shop: ShopId,
    language: &str,
    unticked: Option<TemplateId>,
) -> ServiceResult<()> {
    let mut same: Vec<_> = store::list(conn, shop)?.into_iter().filter(|t| t.language == language).collect();
    if same.iter().any(|t| t.is_default) {
        return Ok(());
    }
    same.sort_by_key(|t| (Some(TemplateId(t.id)) == unticked, t.id));
    if let Some(next) = same.first() {
        store::update(
            conn,
            shop,
            TemplateId(next.id),
            &NewTemplate {
                name: &next.name,
                language: &next.language,
                subject: &next.subject,
                body: &next.body,
                is_default: true,
            },
            clock.now_naive(),
        )?;
    }
    Ok(())
}

pub fn duplicate(
    conn: &mut DbConn,
    clock: &dyn Clock,
    actor: &Actor,
    shop: ShopId,
    id: TemplateId,
    copy_suffix: &str,
) -> ServiceResult<TemplateId> {
    let t = store::find(conn, shop, id)?.ok_or(ServiceError::NotFound)?;
    let name = format!("{} ({copy_suffix})", t.name);
    let new_id = store::insert(
        conn,
        shop,
        &NewTemplate { name: &name, language: &t.language, subject: &t.subject, body: &t.body, is_default: false },
        clock.now_naive(),
    )?;
    audit_entry(conn, clock, actor, shop, "template.duplicated", &name)?;
    Ok(new_id)
}

pub fn delete(conn: &mut DbConn, clock: &dyn Clock, actor: &Actor, shop: ShopId, id: TemplateId) -> ServiceResult<()> {
    let t = store::find(conn, shop, id)?.ok_or(ServiceError::NotFound)?;
    store::delete(conn, shop, id)?;
    keep_a_default(conn, clock, shop, &t.language, None)?;
    audit_entry(conn, clock, actor, shop, "template.deleted", &t.name)
}
