//! What just happened, said once at the top of the next page: an action that redirects
//! leaves a flash in the session; the next back-office page takes it (and so removes it), so
//! that a reload or a bookmark does not say it again.

use actix_session::Session;
use serde::{Deserialize, Serialize};

use super::i18n::Tr;

const KEY: &str = "flash";

/// A message to say once: its i18n key, and a count for those that say how many.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Flash {
    key: String,
    count: Option<usize>,
}

impl Flash {
    pub fn new(key: &'static str) -> Self {
        Flash { key: key.to_string(), count: None }
    }

    pub fn count(key: &'static str, count: usize) -> Self {
        Flash { key: key.to_string(), count: Some(count) }
    }

    fn text(&self, t: &Tr) -> Option<String> {
        let text = match self.count {
            Some(n) => t.count(&self.key, n),
            None => t.get(&self.key).to_string(),
        };
        // Only the keys of this code: a session is ours, but an unknown key says nothing.
        (text != "??").then_some(text)
    }
}

/// Leaves `flash` for the next page. A session that cannot store it loses the message, not
/// the action that was done.
pub fn set(session: &Session, flash: Flash) {
    if let Err(e) = session.insert(KEY, flash) {
        tracing::warn!(error = %e, "flash not stored");
    }
}

/// The flash left for this page, in its language, taken out of the session.
pub fn take(session: &Session, t: &Tr) -> Option<String> {
    let flash = session.remove_as::<Flash>(KEY)?.ok()?;
    flash.text(t)
}
