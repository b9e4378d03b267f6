//! French and English. The language comes from the `paylink_lang` cookie (set by the
//! switcher and kept a year), else from Accept-Language, else French.

use actix_web::{FromRequest, HttpRequest, dev::Payload};
use std::future::{Ready, ready};

pub const LANG_COOKIE: &str = "paylink_lang";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Fr,
    En,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::Fr => "fr",
            Lang::En => "en",
        }
    }

    pub fn parse(code: &str) -> Option<Lang> {
        match code.trim().get(..2).map(str::to_ascii_lowercase).as_deref() {
            Some("fr") => Some(Lang::Fr),
            Some("en") => Some(Lang::En),
            _ => None,
        }
    }

    /// The first supported language in an Accept-Language header, by quality.
    pub fn from_accept_language(header: &str) -> Option<Lang> {
        let mut best: Option<(f32, Lang)> = None;
        for part in header.split(',') {
            let mut pieces = part.split(';');
            let tag = pieces.next().unwrap_or("").trim();
            let q = pieces.find_map(|p| p.trim().strip_prefix("q=")).and_then(|q| q.parse::<f32>().ok()).unwrap_or(1.0);
            if let Some(lang) = Lang::parse(tag)
                && best.is_none_or(|(bq, _)| q > bq)
            {
                best = Some((q, lang));
            }
        }
        best.map(|(_, l)| l)
    }

    pub fn of(req: &HttpRequest) -> Lang {
        req.cookie(LANG_COOKIE)
            .and_then(|c| Lang::parse(c.value()))
            .or_else(|| {
                req.headers()
                    .get(actix_web::http::header::ACCEPT_LANGUAGE)
                    .and_then(|v| v.to_str().ok())
                    .and_then(Lang::from_accept_language)
            })
            .unwrap_or(Lang::Fr)
    }
}

impl FromRequest for Lang {
    type Error = actix_web::Error;
    type Future = Ready<Result<Lang, actix_web::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(Lang::of(req)))
    }
}

/// The translator handed to every template.
#[derive(Debug, Clone, Copy)]
pub struct Tr {
    pub lang: Lang,
}

impl Tr {
    pub fn new(lang: Lang) -> Self {
        Tr { lang }
    }

    /// The text of `key`; the key itself if it is unknown (a test forbids that).
    pub fn get(&self, key: &str) -> &'static str {
        match lookup(key) {
            Some((fr, en)) => match self.lang {
                Lang::Fr => fr,
                Lang::En => en,
            },
            None => {
                tracing::warn!(key, "missing translation");
                "??"
            }
        }
    }

    pub fn code(&self) -> &'static str {
        self.lang.code()
    }
}

macro_rules! messages {
    ($($key:literal => $fr:literal, $en:literal;)*) => {
        pub const KEYS: &[&str] = &[$($key),*];
        fn lookup(key: &str) -> Option<(&'static str, &'static str)> {
            match key {
                $($key => Some(($fr, $en)),)*
                _ => None,
            }
        }
    };
}

messages! {
    "app.name" => "paylink", "paylink";
    "app.tagline" => "Liens de paiement", "Payment links";
    "lang.switch" => "English", "Français";
    "lang.other_code" => "en", "fr";
    "skip" => "Aller au contenu", "Skip to content";

    "login.title" => "Connexion à votre espace marchand", "Sign in to your merchant back office";
    "login.login" => "Identifiant", "Login";
    "login.password" => "Mot de passe", "Password";
    "login.submit" => "Se connecter", "Sign in";
    "login.refused" => "Identifiant ou mot de passe incorrect.", "Wrong login or password.";
    "login.remaining" => "Tentatives restantes avant blocage du compte :", "Attempts left before the account locks:";
    "login.rate_limited" => "Trop de tentatives de connexion. Patientez une minute puis réessayez.", "Too many sign-in attempts. Wait a minute and try again.";
    "login.session_ended" => "Votre session a pris fin. Reconnectez-vous.", "Your session has ended. Please sign in again.";
    "login.logged_out" => "Vous êtes déconnecté.", "You are signed out.";
    "login.password_changed" => "Mot de passe enregistré.", "Password saved.";
    "login.help" => "Compte bloqué ou mot de passe oublié ? Demandez à l'administrateur de votre société de le réinitialiser.", "Account locked or password forgotten? Ask your company's administrator to reset it.";

    "code.title" => "Code de première connexion", "First-login code";
    "code.intro" => "Pour cette première connexion, saisissez le code de première connexion que vous avez choisi lors de votre inscription. Ce code ne vous est jamais envoyé par e-mail.", "This is a first login: enter the first-login code you chose when you signed up. This code is never sent by e-mail.";
    "code.label" => "Code de première connexion", "First-login code";
    "code.submit" => "Valider", "Continue";
    "code.refused" => "Code de première connexion incorrect.", "Wrong first-login code.";
    "code.lost" => "Code perdu ? Contactez votre chargé de clientèle ou l'administrateur de votre société.", "Lost your code? Contact your account manager or your company's administrator.";

    "newpw.title" => "Choisissez votre mot de passe", "Choose your password";
    "newpw.intro" => "Votre mot de passe doit contenir :", "Your password must contain:";
    "newpw.rule.length" => "au moins 8 caractères", "at least 8 characters";
    "newpw.rule.upper" => "au moins 1 majuscule", "at least 1 upper-case letter";
    "newpw.rule.lower" => "au moins 1 minuscule", "at least 1 lower-case letter";
    "newpw.rule.digit" => "au moins 1 chiffre", "at least 1 digit";
    "newpw.rule.ok" => "et son niveau de sécurité doit être « OK ».", "and its security level must read \"OK\".";
    "newpw.new" => "Nouveau mot de passe", "New password";
    "newpw.confirm" => "Confirmez le mot de passe", "Confirm the password";
    "newpw.current" => "Mot de passe actuel", "Current password";
    "newpw.submit" => "Enregistrer le mot de passe", "Save the password";
    "newpw.current_wrong" => "Mot de passe actuel incorrect.", "The current password is wrong.";

    "password.strength.weak" => "Sécurité faible", "Security: weak";
    "password.strength.medium" => "Sécurité moyenne", "Security: medium";
    "password.strength.ok" => "Sécurité OK", "Security: OK";
    "password.strength.label" => "Niveau de sécurité", "Security level";
    "password.too_short" => "Le mot de passe doit contenir au moins 8 caractères.", "The password must be at least 8 characters long.";
    "password.too_long" => "Le mot de passe ne peut dépasser 128 caractères.", "The password cannot exceed 128 characters.";
    "password.no_upper" => "Le mot de passe doit contenir au moins une majuscule.", "The password must contain an upper-case letter.";
    "password.no_lower" => "Le mot de passe doit contenir au moins une minuscule.", "The password must contain a lower-case letter.";
    "password.no_digit" => "Le mot de passe doit contenir au moins un chiffre.", "The password must contain a digit.";
    "password.too_weak" => "Ce mot de passe est trop facile à deviner : seule une sécurité « OK » est acceptée. Allongez-le ou évitez les mots et suites courants.", "This password is too easy to guess: only \"OK\" security is accepted. Make it longer or avoid common words and sequences.";
    "password.mismatch" => "Les deux mots de passe ne sont pas identiques.", "The two passwords do not match.";
    "password.same_as_current" => "Choisissez un mot de passe différent de l'actuel.", "Choose a password different from the current one.";

    "locked.title" => "Compte bloqué", "Account locked";
    "locked.text" => "Ce compte est bloqué après 5 tentatives de connexion infructueuses.", "This account is locked after 5 failed sign-in attempts.";
    "locked.how" => "Pour le débloquer, demandez à l'administrateur de votre société (menu Utilisateurs) de le débloquer ou de réinitialiser votre mot de passe. Un nouveau mot de passe compte comme une première connexion : votre code de première connexion vous sera demandé.", "To unlock it, ask your company's administrator (Users menu) to unlock it or reset your password. A new password counts as a first login: you will be asked for your first-login code.";
    "locked.back" => "Retour à la connexion", "Back to sign in";

    "nav.orders" => "Ordres de paiement", "Payment orders";
    "nav.transactions" => "Transactions", "Transactions";
    "nav.settings" => "Paramétrage", "Settings";
    "nav.users" => "Utilisateurs", "Users";
    "nav.audit" => "Journal d'audit", "Audit log";
    "nav.account" => "Mon compte", "My account";
    "nav.logout" => "Se déconnecter", "Sign out";
    "nav.menu" => "Menu principal", "Main menu";
    "nav.shop" => "Boutique", "Shop";
    "nav.mode" => "Mode", "Mode";
    "nav.switch" => "Changer", "Switch";
    "mode.TEST" => "TEST", "TEST";
    "mode.PRODUCTION" => "PRODUCTION", "PRODUCTION";
    "mode.test_banner" => "Mode TEST : rien de ce que vous faites ici ne débite de carte réelle.", "TEST mode: nothing you do here charges a real card.";

    "orders.title" => "Ordres de paiement", "Payment orders";
    "orders.empty" => "Aucun ordre de paiement pour cette boutique dans ce mode.", "No payment orders for this shop in this mode.";
    "orders.defaults" => "Valeurs par défaut des nouveaux ordres", "Defaults of new orders";
    "transactions.title" => "Transactions", "Transactions";
    "transactions.empty" => "Aucune transaction pour cette boutique dans ce mode.", "No transactions for this shop in this mode.";

    "settings.title" => "Paramétrage de la boutique", "Shop settings";
    "settings.identity" => "Boutique", "Shop";
    "settings.defaults" => "Valeurs par défaut des ordres de paiement", "Payment order defaults";
    "settings.label" => "Libellé", "Label";
    "settings.slug" => "Identifiant public", "Public identifier";
    "settings.url" => "URL du site", "Website URL";
    "settings.contact_email" => "E-mail de contact", "Contact e-mail";
    "settings.time_zone" => "Fuseau horaire", "Time zone";
    "settings.validity_days" => "Durée de validité par défaut (jours, 90 au plus)", "Default validity (days, 90 at most)";
    "settings.reference_mandatory" => "Référence de commande obligatoire", "Order reference mandatory";
    "settings.validation_mode" => "Mode de validation", "Validation mode";
    "settings.capture_delay" => "Délai de remise en banque (jours)", "Capture delay (days)";
    "settings.three_ds" => "Préférence 3-D Secure", "3-D Secure preference";
    "settings.save" => "Enregistrer", "Save";
    "settings.saved" => "Paramètres enregistrés.", "Settings saved.";
    "settings.read_only" => "Votre rôle permet de consulter ces paramètres, pas de les modifier.", "Your role lets you view these settings, not change them.";
    "settings.keys" => "Clés d'API", "API keys";
    "settings.keys_intro" => "L'API s'authentifie en HTTP Basic avec l'identifiant de la boutique et la clé : la clé TEST ouvre le mode TEST, la clé PRODUCTION le mode PRODUCTION. Une clé n'est affichée qu'une fois ; en régénérer une invalide aussitôt l'ancienne.", "The API authenticates with HTTP Basic, the shop id and a key: the TEST key opens TEST mode, the PRODUCTION key PRODUCTION mode. A key is shown only once; regenerating one revokes the old one at once.";
    "settings.shop_id" => "Identifiant de la boutique", "Shop id";
    "settings.key_ends" => "se termine par", "ends with";
    "settings.regenerate" => "Régénérer", "Regenerate";
    "settings.new_key" => "Nouvelle clé — copiez-la maintenant, elle ne sera plus affichée :", "New key — copy it now, it will not be shown again:";
    "validation.AUTO" => "Automatique", "Automatic";
    "validation.MANUAL" => "Manuelle", "Manual";
    "three_ds.NO_PREFERENCE" => "Pas de préférence", "No preference";
    "three_ds.FRICTIONLESS" => "Sans authentification (frictionless)", "Frictionless";
    "three_ds.CHALLENGE" => "Authentification demandée (challenge)", "Challenge";
    "shop.label.invalid" => "Indiquez un libellé (80 caractères au plus).", "Enter a label (80 characters at most).";
    "shop.url.invalid" => "Indiquez une adresse qui commence par https:// ou http://.", "Enter an address starting with https:// or http://.";
    "shop.time_zone.invalid" => "Choisissez un fuseau horaire de la liste (par exemple Europe/Paris).", "Choose a time zone from the list (for example Europe/Paris).";
    "shop.validity_days.invalid" => "Indiquez un nombre de jours entre 1 et 90 (3 mois au plus).", "Enter a number of days between 1 and 90 (3 months at most).";
    "shop.capture_delay.invalid" => "Indiquez un nombre de jours entre 0 et 365.", "Enter a number of days between 0 and 365.";

    "field.required" => "Ce champ est obligatoire.", "This field is required.";
    "field.email.invalid" => "Indiquez une adresse e-mail valide.", "Enter a valid e-mail address.";
    "field.choice.invalid" => "Choisissez une valeur de la liste.", "Choose a value from the list.";
    "field.too_long" => "Ce texte est trop long.", "This text is too long.";
    "form.errors" => "Corrigez les champs signalés.", "Please correct the marked fields.";
    "yes" => "Oui", "Yes";
    "no" => "Non", "No";

    "users.title" => "Utilisateurs", "Users";
    "users.new" => "Nouvel utilisateur", "New user";
    "users.login" => "Identifiant", "Login";
    "users.email" => "E-mail", "E-mail";
    "users.full_name" => "Nom", "Name";
    "users.role" => "Rôle", "Role";
    "users.shops" => "Boutiques", "Shops";
    "users.all_shops" => "Toutes", "All";
    "users.can_test" => "Peut créer des ordres en mode TEST", "May create TEST orders";
    "users.test" => "TEST", "TEST";
    "users.status" => "État", "Status";
    "users.active" => "Actif", "Active";
    "users.locked" => "Bloqué", "Locked";
    "users.first_login_pending" => "Première connexion à faire", "First login pending";
    "users.last_login" => "Dernière connexion", "Last login";
    "users.never" => "Jamais", "Never";
    "users.first_login_code" => "Code de première connexion", "First-login code";
    "users.first_login_code_help" => "Convenu avec l'utilisateur : 4 à 32 lettres ou chiffres. Il ne lui est jamais envoyé par e-mail.", "Agreed with the user: 4 to 32 letters or digits. It is never sent by e-mail.";
    "users.create" => "Créer l'utilisateur", "Create the user";
    "users.save" => "Enregistrer", "Save";
    "users.created" => "Utilisateur créé. Mot de passe temporaire à lui transmettre (affiché une seule fois) :", "User created. Temporary password to hand over (shown only once):";
    "users.reset" => "Réinitialiser le mot de passe", "Reset the password";
    "users.reset_done" => "Nouveau mot de passe temporaire (affiché une seule fois) ; à la prochaine connexion, le code de première connexion sera demandé :", "New temporary password (shown only once); the next login asks for the first-login code:";
    "users.unlock" => "Débloquer", "Unlock";
    "users.unlocked" => "Utilisateur débloqué.", "User unlocked.";
    "users.saved" => "Droits enregistrés.", "Rights saved.";
    "users.edit" => "Modifier", "Edit";
    "users.back" => "Retour aux utilisateurs", "Back to users";
    "user.login.invalid" => "3 à 64 caractères : lettres, chiffres, « . », « - », « _ » ou « @ ».", "3 to 64 characters: letters, digits, \".\", \"-\", \"_\" or \"@\".";
    "user.login.taken" => "Cet identifiant est déjà utilisé.", "This login is already taken.";
    "user.shops.invalid" => "Choisissez des boutiques de votre société.", "Choose shops of your company.";
    "user.shops.required" => "Choisissez au moins une boutique (un administrateur les voit toutes).", "Choose at least one shop (an administrator sees them all).";
    "user.role.self_demotion" => "Vous ne pouvez pas retirer votre propre rôle d'administrateur.", "You cannot remove your own administrator role.";
    "first_login_code.invalid" => "4 à 32 lettres ou chiffres.", "4 to 32 letters or digits.";
    "role.admin" => "Administrateur", "Administrator";
    "role.manager" => "Gestionnaire", "Manager";
    "role.viewer" => "Consultation", "Viewer";
    "role.help" => "Administrateur : tout, y compris utilisateurs et clés. Gestionnaire : ordres et paramétrage de ses boutiques. Consultation : lecture seule.", "Administrator: everything, users and keys included. Manager: orders and settings of their shops. Viewer: read only.";

    "audit.title" => "Journal d'audit", "Audit log";
    "audit.when" => "Date (UTC)", "When (UTC)";
    "audit.who" => "Qui", "Who";
    "audit.from" => "Depuis", "From";
    "audit.action" => "Action", "Action";
    "audit.target" => "Objet", "Target";
    "audit.detail" => "Détail", "Detail";
    "audit.filter" => "Filtrer", "Filter";
    "audit.action_prefix" => "Action commençant par", "Action starting with";
    "audit.actor" => "Utilisateur", "User";
    "audit.export" => "Exporter en CSV", "Export as CSV";
    "audit.older" => "Entrées plus anciennes", "Older entries";
    "audit.empty" => "Aucune entrée.", "No entries.";

    "account.title" => "Mon compte", "My account";
    "account.change_password" => "Changer de mot de passe", "Change the password";

    "error.not_found.title" => "Page introuvable", "Page not found";
    "error.not_found.text" => "Cette page n'existe pas ou vous n'y avez pas accès.", "This page does not exist or you have no access to it.";
    "error.forbidden.title" => "Accès refusé", "Access denied";
    "error.forbidden.text" => "Votre rôle ne permet pas cette action. Demandez à l'administrateur de votre société si vous en avez besoin.", "Your role does not allow this action. Ask your company's administrator if you need it.";
    "error.csrf.title" => "Formulaire expiré", "Form expired";
    "error.csrf.text" => "Ce formulaire n'a pas pu être vérifié (jeton de sécurité absent ou périmé). Rechargez la page et recommencez.", "This form could not be verified (security token missing or stale). Reload the page and try again.";
    "error.rate.title" => "Trop de tentatives", "Too many attempts";
    "error.rate.text" => "Patientez une minute puis réessayez.", "Wait a minute and try again.";
    "error.bad_request.title" => "Requête invalide", "Invalid request";
    "error.bad_request.text" => "La requête n'a pas pu être comprise. Revenez en arrière et vérifiez le formulaire.", "The request could not be understood. Go back and check the form.";
    "error.no_shop.title" => "Aucune boutique", "No shop";
    "error.no_shop.text" => "Votre compte n'a accès à aucune boutique. Demandez à l'administrateur de votre société de vous en attribuer une.", "Your account has access to no shop. Ask your company's administrator to grant you one.";
    "error.internal.title" => "Erreur inattendue", "Unexpected error";
    "error.internal.text" => "Une erreur inattendue s'est produite ; elle a été enregistrée. Réessayez dans un instant.", "An unexpected error occurred and was logged. Try again in a moment.";
    "error.back" => "Retour", "Back";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_picks_the_best_supported() {
        assert_eq!(Lang::from_accept_language("en-GB,en;q=0.9,fr;q=0.8"), Some(Lang::En));
        assert_eq!(Lang::from_accept_language("de-DE,fr;q=0.5,en;q=0.3"), Some(Lang::Fr));
        assert_eq!(Lang::from_accept_language("de,es"), None);
        assert_eq!(Lang::from_accept_language("fr-CA"), Some(Lang::Fr));
    }

    #[test]
    fn every_key_used_by_a_template_or_the_code_has_both_languages() {
        let mut used = Vec::new();
        let root = env!("CARGO_MANIFEST_DIR");
        let mut stack =
            vec![std::path::PathBuf::from(root).join("templates"), std::path::PathBuf::from(root).join("src")];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap();
                for (i, _) in text.match_indices("t.get(\"") {
                    let rest = &text[i + 7..];
                    let key = &rest[..rest.find('"').unwrap()];
                    used.push((path.display().to_string(), key.to_string()));
                }
            }
        }
        assert!(used.len() > 50, "the scan found the templates");
        for (file, key) in used {
            assert!(lookup(&key).is_some(), "{file} uses the unknown key {key}");
        }
        for key in KEYS {
            let (fr, en) = lookup(key).unwrap();
            assert!(!fr.is_empty() && !en.is_empty(), "{key}");
        }
    }
}
