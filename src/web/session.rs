//! Server-side sessions for actix-session, stored in the database (hashed keys), timed by the
//! application clock so that idle expiry is testable; and the extractors that turn a session
//! into a signed-in back-office user.

use std::collections::HashMap;

use actix_session::storage::{LoadError, SaveError, SessionKey, SessionStore, UpdateError};
use actix_session::{Session, SessionExt};
use actix_web::cookie::time::Duration as CookieDuration;
use actix_web::{FromRequest, HttpRequest, dev::Payload, web};
use chrono::{Duration, NaiveDateTime};
use futures_util::future::LocalBoxFuture;

use super::AppState;
use super::error::AppError;
use crate::domain::actor::Actor;
use crate::domain::api_key::Mode;
use crate::domain::ids::{ShopId, UserId};
use crate::domain::shop::Shop;
use crate::domain::user::{Role, User};
use crate::services::{Env, sessions};

pub struct DbSessionStore {
    env: Env,
    /// The expiry last written per session: an idle timeout counted in minutes does not need
    /// a write on every request, only when it would move by more than `TOUCH_EVERY`.
    touched: TouchCache,
}

/// Shared by every HTTP worker thread of one server.
pub type TouchCache = std::sync::Arc<std::sync::Mutex<HashMap<String, NaiveDateTime>>>;

const TOUCH_EVERY: Duration = Duration::seconds(30);

impl DbSessionStore {
    pub fn new(env: Env, touched: TouchCache) -> Self {
        DbSessionStore { env, touched }
    }

    /// Whether the stored expiry is recent enough to skip writing `expires`.
    fn fresh(&self, hash: &str, expires: NaiveDateTime) -> bool {
        let mut touched = self.touched.lock().expect("session cache poisoned");
        if touched.len() > 50_000 {
            touched.clear();
        }
        match touched.get(hash) {
            Some(last) if expires - *last < TOUCH_EVERY => true,
            _ => {
                touched.insert(hash.to_string(), expires);
                false
            }
        }
    }

    fn expiry(&self, ttl: &CookieDuration) -> NaiveDateTime {
        self.env.clock.now_naive() + Duration::seconds(ttl.whole_seconds())
    }
}

fn key_hash(key: &SessionKey) -> String {
    crate::domain::api_key::hash_key(key.as_ref())
}

fn user_of(state: &HashMap<String, String>) -> Option<UserId> {
    state.get(KEY_USER).and_then(|v| v.parse().ok()).map(UserId)
}

fn new_key() -> SessionKey {
    SessionKey::try_from(super::security::random_token(48)).expect("64 characters is a valid key")
}

impl SessionStore for DbSessionStore {
    async fn load(&self, session_key: &SessionKey) -> Result<Option<HashMap<String, String>>, LoadError> {
        let hash = key_hash(session_key);
        let now = self.env.clock.now_naive();
        let state = sessions::load(&self.env.db, hash, now).await.map_err(|e| LoadError::Other(anyhow::anyhow!(e)))?;
        match state {
            None => Ok(None),
            Some(text) => serde_json::from_str(&text).map(Some).map_err(|e| LoadError::Deserialization(e.into())),
        }
    }

    async fn save(&self, state: HashMap<String, String>, ttl: &CookieDuration) -> Result<SessionKey, SaveError> {
        let key = new_key();
        let hash = key_hash(&key);
        let text = serde_json::to_string(&state).map_err(|e| SaveError::Serialization(e.into()))?;
        let user = user_of(&state);
        let expires = self.expiry(ttl);
        sessions::insert(&self.env.db, hash, user, text, expires)
            .await
            .map_err(|e| SaveError::Other(anyhow::anyhow!(e)))?;
        Ok(key)
    }

    async fn update(
        &self,
        session_key: SessionKey,
        state: HashMap<String, String>,
        ttl: &CookieDuration,
    ) -> Result<SessionKey, UpdateError> {
        let hash = key_hash(&session_key);
        let text = serde_json::to_string(&state).map_err(|e| UpdateError::Serialization(e.into()))?;
        let user = user_of(&state);
        let expires = self.expiry(ttl);
        let updated = sessions::update(&self.env.db, hash, user, text, expires)
            .await
            .map_err(|e| UpdateError::Other(anyhow::anyhow!(e)))?;
        if updated == 1 {
            return Ok(session_key);
        }
        // The session ended meanwhile (logout elsewhere, expiry): start a new one.
        self.save(state, ttl).await.map_err(|e| UpdateError::Other(anyhow::anyhow!(e.to_string())))
    }

    async fn update_ttl(&self, session_key: &SessionKey, ttl: &CookieDuration) -> Result<(), anyhow::Error> {
        let hash = key_hash(session_key);
        let expires = self.expiry(ttl);
        if self.fresh(&hash, expires) {
            return Ok(());
        }
        sessions::touch(&self.env.db, hash, expires).await?;
        Ok(())
    }

    async fn delete(&self, session_key: &SessionKey) -> Result<(), anyhow::Error> {
        let hash = key_hash(session_key);
        sessions::delete(&self.env.db, hash).await?;
        Ok(())
    }
}

pub const KEY_USER: &str = "uid";
pub const KEY_STAGE: &str = "stage";
pub const KEY_SHOP: &str = "shop";
pub const KEY_MODE: &str = "mode";

/// Where a user is in the login sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Temporary password accepted; the first-login code is due.
    Code,
    /// Code accepted; a new password is due.
    NewPassword,
    /// Fully signed in.
    In,
}

pub fn stage(session: &Session) -> Option<(UserId, Stage)> {
    let user = session.get::<i64>(KEY_USER).ok().flatten()?;
    let stage = session.get::<Stage>(KEY_STAGE).ok().flatten()?;
    Some((UserId(user), stage))
}

/// Starts a new session for `user` at `stage`: the old session id is dropped (no fixation).
pub fn begin(session: &Session, user: UserId, stage: Stage) -> Result<(), AppError> {
    session.renew();
    set_stage(session, user, stage)
}

pub fn set_stage(session: &Session, user: UserId, stage: Stage) -> Result<(), AppError> {
    session.insert(KEY_USER, user.0).map_err(AppError::internal)?;
    session.insert(KEY_STAGE, stage).map_err(AppError::internal)?;
    Ok(())
}

/// A fully signed-in back-office user, with the shop and mode they work in.
pub struct Staff {
    pub user: User,
    /// Shops this user may see: every company shop for an admin, else those granted.
    pub shops: Vec<Shop>,
    pub shop: Shop,
    pub mode: Mode,
    pub session: Session,
}

impl Staff {
    pub fn can_write(&self) -> bool {
        self.user.role.can_write()
    }

    pub fn require_write(&self) -> Result<(), AppError> {
        if self.can_write() { Ok(()) } else { Err(AppError::Forbidden) }
    }

    pub fn require_admin(&self) -> Result<(), AppError> {
        if self.user.role == Role::Admin { Ok(()) } else { Err(AppError::Forbidden) }
    }

    pub fn actor(&self, req: &HttpRequest) -> Actor {
        Actor {
            company_id: Some(self.user.company_id),
            user_id: Some(self.user.id),
            name: self.user.login.clone(),
            ip: super::security::client_ip(req),
        }
    }
}

impl FromRequest for Staff {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let session = req.get_session();
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let path = req.uri().path().to_string();
        Box::pin(async move {
            let state = state.ok_or_else(|| AppError::internal("no app state"))?;
            let login_needed = || AppError::LoginRequired { next: path.clone() };
            let (user_id, stage) = stage(&session).ok_or_else(login_needed)?;
            match stage {
                Stage::In => {}
                Stage::Code => return Err(AppError::Redirect("/login/code".into())),
                Stage::NewPassword => return Err(AppError::Redirect("/login/new-password".into())),
            }
            let wanted_shop = session.get::<i64>(KEY_SHOP).ok().flatten().map(ShopId);
            let wanted_mode = session.get::<String>(KEY_MODE).ok().flatten().and_then(|m| Mode::parse(&m));
            let loaded = sessions::signed_in(&state.env.db, user_id).await?;
            let Some((user, shops)) = loaded else {
                session.purge();
                return Err(login_needed());
            };
            if user.is_locked() || user.password_is_temporary {
                session.purge();
                return Err(login_needed());
            }
            let shop = wanted_shop
                .and_then(|id| sessions::find_shop(&shops, id))
                .or_else(|| shops.first())
                .cloned()
                .ok_or(AppError::NoShop)?;
            let mode = match wanted_mode {
                Some(Mode::Test) if user.can_test => Mode::Test,
                _ if !user.can_test => Mode::Production,
                Some(m) => m,
                None => Mode::Test,
            };
            Ok(Staff { user, shops, shop, mode, session })
        })
    }
}
