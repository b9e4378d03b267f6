//! Merchant passwords, as the Systempay FAQ states them: at least 8 characters with an upper
//! case letter, a lower case letter and a digit, and a strength meter reading "weak", "medium"
//! or "OK" of which only "OK" is accepted. Strength comes from zxcvbn (a real estimator: it
//! knows `Password1` and `Azerty123` are guessed in seconds), not from counting classes.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::Rng;
use serde::Serialize;

pub const MIN_LEN: usize = 8;
/// Long enough for any passphrase, short enough that hashing cannot be used to burn CPU.
pub const MAX_LEN: usize = 128;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Strength {
    Weak,
    Medium,
    Ok,
}

impl Strength {
    /// i18n key of the meter's label.
    pub fn label_key(self) -> &'static str {
        match self {
            Strength::Weak => "password.strength.weak",
            Strength::Medium => "password.strength.medium",
            Strength::Ok => "password.strength.ok",
        }
    }
}

/// Strength of `password`; `context` holds words an attacker would try first (login, e-mail,
/// company name).
pub fn strength(password: &str, context: &[&str]) -> Strength {
    if password.is_empty() {
        return Strength::Weak;
    }
    let password: String = password.chars().take(MAX_LEN).collect();
    let score: u8 = zxcvbn::zxcvbn(&password, context).score().into();
    // A password that fails the policy is never "OK", whatever its entropy.
    let rules_met = policy_violations(&password).is_empty();
    match score {
        0 | 1 => Strength::Weak,
        2 => Strength::Medium,
        _ if rules_met => Strength::Ok,
        _ => Strength::Medium,
    }
}

/// What the meter says about a password being typed: its level, each rule met or not, and,
/// for a password that meets the rules but is not "OK", why (an i18n key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Assessment {
    pub level: Strength,
    pub rules: Rules,
    pub reason: Option<&'static str>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Rules {
    pub length: bool,
    pub upper: bool,
    pub lower: bool,
    pub digit: bool,
}

impl Rules {
    fn all(self) -> bool {
        self.length && self.upper && self.lower && self.digit
    }
}

/// The meter's reading of `password`: the same estimator and rules as [`NewPassword::parse`].
pub fn assess(password: &str, context: &[&str]) -> Assessment {
    let violations = policy_violations(password);
    let rules = Rules {
        length: !violations.iter().any(|v| matches!(v, PolicyError::TooShort | PolicyError::TooLong)),
        upper: !violations.contains(&PolicyError::NoUpper),
        lower: !violations.contains(&PolicyError::NoLower),
        digit: !violations.contains(&PolicyError::NoDigit),
    };
    let level = strength(password, context);
    let reason = (rules.all() && level != Strength::Ok).then(|| weakness(password, context));
    Assessment { level, rules, reason }
}

/// Why zxcvbn finds a password guessable, in our words (its own warnings are English only).
fn weakness(password: &str, context: &[&str]) -> &'static str {
    use zxcvbn::feedback::Warning::*;
    let password: String = password.chars().take(MAX_LEN).collect();
    let estimate = zxcvbn::zxcvbn(&password, context);
    match estimate.feedback().and_then(|f| f.warning()) {
        Some(ThisIsATop10Password | ThisIsATop100Password | ThisIsACommonPassword) => "password.why.common",
        Some(ThisIsSimilarToACommonlyUsedPassword) => "password.why.similar",
        Some(StraightRowsOfKeysAreEasyToGuess | ShortKeyboardPatternsAreEasyToGuess) => "password.why.keyboard",
        Some(RepeatsLikeAaaAreEasyToGuess | RepeatsLikeAbcAbcAreOnlySlightlyHarderToGuess) => "password.why.repeat",
        Some(SequencesLikeAbcAreEasyToGuess) => "password.why.sequence",
        Some(RecentYearsAreEasyToGuess | DatesAreOftenEasyToGuess) => "password.why.date",
        Some(
            AWordByItselfIsEasyToGuess
            | NamesAndSurnamesByThemselvesAreEasyToGuess
            | CommonNamesAndSurnamesAreEasyToGuess,
        ) => "password.why.word",
        None => "password.why.short",
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyError {
    TooShort,
    TooLong,
    NoUpper,
    NoLower,
    NoDigit,
    TooWeak(Strength),
    Mismatch,
    SameAsCurrent,
}

impl PolicyError {
    pub fn code(self) -> &'static str {
        match self {
            PolicyError::TooShort => "password.too_short",
            PolicyError::TooLong => "password.too_long",
            PolicyError::NoUpper => "password.no_upper",
            PolicyError::NoLower => "password.no_lower",
            PolicyError::NoDigit => "password.no_digit",
            PolicyError::TooWeak(_) => "password.too_weak",
            PolicyError::Mismatch => "password.mismatch",
            PolicyError::SameAsCurrent => "password.same_as_current",
        }
    }
}

fn policy_violations(password: &str) -> Vec<PolicyError> {
    let mut errors = Vec::new();
    let len = password.chars().count();
    if len < MIN_LEN {
        errors.push(PolicyError::TooShort);
    }
    if len > MAX_LEN {
        errors.push(PolicyError::TooLong);
    }
    if !password.chars().any(char::is_uppercase) {
        errors.push(PolicyError::NoUpper);
    }
    if !password.chars().any(char::is_lowercase) {
        errors.push(PolicyError::NoLower);
    }
    if !password.chars().any(|c| c.is_ascii_digit()) {
        errors.push(PolicyError::NoDigit);
    }
    errors
}

/// A password that met the policy and reads "OK" on the meter.
#[derive(Clone)]
pub struct NewPassword(String);

impl NewPassword {
    /// Checks the policy rules first (each one named), then the strength.
    pub fn parse(new: &str, confirm: &str, context: &[&str]) -> Result<Self, PolicyError> {
        if let Some(first) = policy_violations(new).into_iter().next() {
            return Err(first);
        }
        match strength(new, context) {
            Strength::Ok => {}
            weaker => return Err(PolicyError::TooWeak(weaker)),
        }
        if new != confirm {
            return Err(PolicyError::Mismatch);
        }
        Ok(NewPassword(new.to_string()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewPassword(..)")
    }
}

fn argon2() -> Argon2<'static> {
    // OWASP's argon2id baseline: 19 MiB, 2 passes, 1 lane.
    Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(19 * 1024, 2, 1, None).expect("valid params"))
}

/// argon2id PHC string of `secret` (passwords and first-login codes).
pub fn hash(secret: &str) -> String {
    let mut salt = [0u8; 16];
    rand::rng().fill(&mut salt);
    let salt = SaltString::encode_b64(&salt).expect("16-byte salt");
    argon2().hash_password(secret.as_bytes(), &salt).expect("argon2 never fails on valid params").to_string()
}

pub fn verify(secret: &str, phc: &str) -> bool {
    if secret.chars().count() > MAX_LEN {
        return false;
    }
    PasswordHash::new(phc).is_ok_and(|parsed| argon2().verify_password(secret.as_bytes(), &parsed).is_ok())
}

/// A hash of nothing anyone can type, verified against when the login is unknown so that an
/// unknown login costs the same time as a wrong password.
pub fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash("\u{0}no user\u{0}"))
}

/// A temporary password: 16 characters from an alphabet without look-alikes, always with an
/// upper, a lower case letter and a digit, so it is accepted wherever a password is.
pub fn temporary() -> String {
    const UPPER: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
    const LOWER: &[u8] = b"abcdefghijkmnpqrstuvwxyz";
    const DIGIT: &[u8] = b"23456789";
    let mut rng = rand::rng();
    let all: Vec<u8> = [UPPER, LOWER, DIGIT].concat();
    let mut chars: Vec<u8> = (0..13).map(|_| all[rng.random_range(0..all.len())]).collect();
    for set in [UPPER, LOWER, DIGIT] {
        let at = rng.random_range(0..=chars.len());
        chars.insert(at, set[rng.random_range(0..set.len())]);
    }
    String::from_utf8(chars).expect("ascii")
}

/// The first-login code a merchant chose at sign-up: 4 to 32 letters or digits.
#[derive(Clone)]
pub struct FirstLoginCode(String);

impl std::fmt::Debug for FirstLoginCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FirstLoginCode(..)")
    }
}

impl FirstLoginCode {
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let code = raw.trim();
        if code.len() < 4 || code.len() > 32 || !code.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err("first_login_code.invalid");
        }
        Ok(FirstLoginCode(code.to_string()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_meter_ticks_each_rule_and_says_why_a_compliant_password_is_weak() {
        let a = assess("abc", &[]);
        assert_eq!(a.rules, Rules { length: false, upper: false, lower: true, digit: false });
        assert_eq!(a.reason, None, "rules unmet: the rules say what is missing");
        let a = assess("Password1", &[]);
        assert!(a.rules.all());
        assert_ne!(a.level, Strength::Ok);
        assert_eq!(a.reason, Some("password.why.common"), "{a:?}");
        assert_eq!(assess("Qwertyuiop1", &[]).reason, Some("password.why.similar"));
        assert!(assess("Aaaaaaaaaaa1", &[]).reason.is_some(), "weak, compliant: a reason");
        let ok = assess("Zq8!mW3#rT6yPu", &[]);
        assert_eq!((ok.level, ok.reason), (Strength::Ok, None));
    }

    #[test]
    fn each_rule_is_named() {
        assert_eq!(NewPassword::parse("short1A", "short1A", &[]).err(), Some(PolicyError::TooShort));
        assert_eq!(NewPassword::parse("alllowercase1", "alllowercase1", &[]).err(), Some(PolicyError::NoUpper));
        assert_eq!(NewPassword::parse("ALLUPPERCASE1", "ALLUPPERCASE1", &[]).err(), Some(PolicyError::NoLower));
        assert_eq!(NewPassword::parse("NoDigitsHere", "NoDigitsHere", &[]).err(), Some(PolicyError::NoDigit));
        let long = format!("Aa1{}", "x".repeat(MAX_LEN));
        assert_eq!(NewPassword::parse(&long, &long, &[]).err(), Some(PolicyError::TooLong));
    }

    #[test]
    fn common_passwords_that_meet_the_rules_are_still_refused_as_weak() {
        for pw in ["Password1", "Azerty123", "Motdepasse1", "Qwerty123", "Paylink2026"] {
            let s = strength(pw, &["paylink"]);
            assert_ne!(s, Strength::Ok, "{pw} must not read OK");
            assert!(matches!(NewPassword::parse(pw, pw, &["paylink"]), Err(PolicyError::TooWeak(_))), "{pw}");
        }
    }

    #[test]
    fn the_meter_has_three_levels() {
        assert_eq!(strength("", &[]), Strength::Weak);
        assert_eq!(strength("abc", &[]), Strength::Weak);
        assert_eq!(strength("Password1", &[]), Strength::Weak);
        assert_eq!(strength("Marseille13", &[]), Strength::Medium);
        assert_eq!(strength("Jupiter77x", &[]), Strength::Medium);
        assert_eq!(strength("Kj7#vQ2m!Lp9xRw", &[]), Strength::Ok);
        assert_eq!(strength("correct Horse 7 battery staple", &[]), Strength::Ok);
    }

    #[test]
    fn a_strong_password_without_a_digit_is_not_ok() {
        assert_eq!(strength("Correct-Horse-Battery-Staple", &[]), Strength::Medium);
    }

    #[test]
    fn personal_words_weaken_a_password() {
        assert_eq!(strength("Dupont1974", &["dupont"]), Strength::Weak);
        assert_ne!(strength("Dupont1974!", &["dupont"]), Strength::Ok);
    }

    #[test]
    fn confirmation_must_match_and_strong_passwords_pass() {
        assert_eq!(NewPassword::parse("Kj7#vQ2m!Lp9xRw", "Kj7#vQ2m!Lp9xRW", &[]).err(), Some(PolicyError::Mismatch));
        assert!(NewPassword::parse("Kj7#vQ2m!Lp9xRw", "Kj7#vQ2m!Lp9xRw", &[]).is_ok());
    }

    #[test]
    fn hashes_are_argon2id_salted_and_verify() {
        let a = hash("Kj7#vQ2m!Lp9xRw");
        let b = hash("Kj7#vQ2m!Lp9xRw");
        assert!(a.starts_with("$argon2id$"));
        assert_ne!(a, b, "salted");
        assert!(verify("Kj7#vQ2m!Lp9xRw", &a));
        assert!(!verify("Kj7#vQ2m!Lp9xRW", &a));
        assert!(!verify("anything", "not a hash"));
    }

    #[test]
    fn temporary_passwords_meet_the_rules_and_differ() {
        let a = temporary();
        assert_eq!(a.len(), 16);
        assert!(policy_violations(&a).is_empty(), "{a}");
        assert_ne!(a, temporary());
    }

    #[test]
    fn first_login_codes_are_short_alphanumerics() {
        assert!(FirstLoginCode::parse("4821").is_ok());
        assert_eq!(FirstLoginCode::parse(" AB12cd ").unwrap().expose(), "AB12cd");
        assert!(FirstLoginCode::parse("12").is_err());
        assert!(FirstLoginCode::parse("12 34").is_err());
        assert!(FirstLoginCode::parse(&"9".repeat(33)).is_err());
    }
}
