//! The TEST card simulator of DESIGN §4. Any future expiry; any 3-digit CVV but `000`
//! (refused as a wrong CVV, `01063`). References name the test card by its last four
//! digits, which is all the simulator needs after authentication.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;

use super::{
    Acquirer, AcquirerError, Authentication, Authorisation, CardInput, Looked, Operation, StoredCard, ThreeDsOutcome,
    codes,
};
use crate::domain::shop::ThreeDsPreference;

/// What a test card does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    Frictionless,
    Challenge,
    AuthenticationFails,
    Fraud,
    BankRefusal,
    BuyerPresentOnly,
}

pub struct TestCard {
    pub number: &'static str,
    pub behaviour: Behaviour,
    /// i18n key of what the pay page says about it.
    pub label_key: &'static str,
}

pub const TEST_CARDS: [TestCard; 7] = [
    TestCard { number: "4970100000000006", behaviour: Behaviour::Frictionless, label_key: "sim.frictionless" },
    TestCard { number: "4970100000000014", behaviour: Behaviour::Challenge, label_key: "sim.challenge" },
    TestCard { number: "4970100000000022", behaviour: Behaviour::AuthenticationFails, label_key: "sim.auth_fails" },
    TestCard { number: "4970100000000030", behaviour: Behaviour::Fraud, label_key: "sim.fraud" },
    TestCard { number: "4970100000000048", behaviour: Behaviour::BankRefusal, label_key: "sim.bank_refusal" },
    TestCard { number: "4970100000000055", behaviour: Behaviour::BuyerPresentOnly, label_key: "sim.buyer_present" },
    TestCard { number: "5970100000000003", behaviour: Behaviour::Frictionless, label_key: "sim.mastercard" },
];

pub fn is_test_card(digits: &str) -> bool {
    TEST_CARDS.iter().any(|c| c.number == digits)
}

/// The test cards' last four digits are all different, so they name the card in a reference
/// without the full number (which must never be stored).
fn card_of(reference: &str) -> Option<&'static TestCard> {
    let tail = reference.strip_prefix("sim:")?;
    TEST_CARDS.iter().find(|c| tail.len() == 4 && c.number.ends_with(tail))
}

/// The TEST acquirer. It answers at once and keeps, in memory, what it did under each
/// operation key: a retried key is done once, and `lookup` answers for the life of the
/// process (after a restart it knows nothing, and says so: an error, never "not found").
#[derive(Default)]
pub struct Simulator {
    journal: Mutex<HashMap<String, Looked>>,
}

impl Simulator {
    fn record(&self, key: &str, what: Looked) -> Looked {
        *self.journal.lock().expect("simulator journal").entry(key.to_string()).or_insert(what)
    }

    /// Capture, cancel and refund of a simulator reference are always done.
    fn settle(&self, op: Operation<'_>) -> Result<(), AcquirerError> {
        if card_of(op.reference).is_none() {
            return Err(AcquirerError::Refused(format!("unknown reference {}", op.reference)));
        }
        self.record(op.key, Looked::Done);
        Ok(())
    }

    fn authenticate_now(&self, card: CardInput<'_>, preference: ThreeDsPreference) -> Authentication {
        let Some(test) = TEST_CARDS.iter().find(|c| c.number == card.number.digits()) else {
            return Authentication::Refused { code: codes::UNKNOWN_TEST_CARD, outcome: ThreeDsOutcome::NotPerformed };
        };
        if card.cvv.expose() == "000" {
            return Authentication::Refused { code: codes::WRONG_CVV, outcome: ThreeDsOutcome::NotPerformed };
        }
        let reference = format!("sim:{}", card.number.last4());
        match test.behaviour {
            Behaviour::AuthenticationFails => {
                Authentication::Refused { code: codes::AUTHENTICATION_FAILED, outcome: ThreeDsOutcome::Failed }
            }
            Behaviour::Challenge => Authentication::Challenge { reference },
            _ if preference == ThreeDsPreference::Challenge => Authentication::Challenge { reference },
            _ => Authentication::Frictionless { reference },
        }
    }

    fn authorise_now(reference: &str, merchant_initiated: bool) -> Authorisation {
        let refused = |code| Authorisation { approved: false, code };
        match card_of(reference).map(|c| c.behaviour) {
            Some(Behaviour::Frictionless | Behaviour::Challenge) => {
                Authorisation { approved: true, code: codes::ACCEPTED }
            }
            Some(Behaviour::BuyerPresentOnly) if merchant_initiated => refused(codes::MIT_NOT_ALLOWED),
            Some(Behaviour::BuyerPresentOnly) => Authorisation { approved: true, code: codes::ACCEPTED },
            Some(Behaviour::Fraud) => refused(codes::SUSPECTED_FRAUD),
            Some(Behaviour::BankRefusal) => refused(codes::BANK_REFUSAL),
            Some(Behaviour::AuthenticationFails) => refused(codes::AUTHENTICATION_FAILED),
            None => refused(codes::UNKNOWN_TEST_CARD),
        }
    }
}

#[async_trait]
impl Acquirer for Simulator {
    fn name(&self) -> &'static str {
        "TEST simulator"
    }

    async fn authenticate(
        &self,
        card: CardInput<'_>,
        preference: ThreeDsPreference,
    ) -> Result<Authentication, AcquirerError> {
        Ok(self.authenticate_now(card, preference))
    }

    async fn authorise(&self, op: Operation<'_>, merchant_initiated: bool) -> Result<Authorisation, AcquirerError> {
        let answer = Self::authorise_now(op.reference, merchant_initiated);
        self.record(op.key, if answer.approved { Looked::Done } else { Looked::Refused });
        Ok(answer)
    }

    async fn verify(&self, key: &str, card: StoredCard<'_>) -> Result<Authorisation, AcquirerError> {
        // The buyer is there (their wallet): a customer-initiated check.
        let answer = Self::authorise_now(&format!("sim:{}", card.number.last4()), false);
        self.record(key, if answer.approved { Looked::Done } else { Looked::Refused });
        Ok(answer)
    }

    async fn stored_reference(&self, card: StoredCard<'_>) -> Result<String, AcquirerError> {
        match is_test_card(card.number.digits()) {
            true => Ok(format!("sim:{}", card.number.last4())),
            false => Err(AcquirerError::Refused("not a TEST card".into())),
        }
    }

    async fn capture(&self, op: Operation<'_>) -> Result<(), AcquirerError> {
        self.settle(op)
    }

    async fn cancel(&self, op: Operation<'_>) -> Result<(), AcquirerError> {
        self.settle(op)
    }

    async fn refund(&self, op: Operation<'_>) -> Result<(), AcquirerError> {
        self.settle(op)
    }

    async fn lookup(&self, key: &str) -> Result<Looked, AcquirerError> {
        match self.journal.lock().expect("simulator journal").get(key) {
            Some(what) => Ok(*what),
            None => Err(AcquirerError::Unavailable(format!("the simulator has no record of {key} (restarted?)"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::card::{CardNumber, Cvv, Expiry};

    fn auth(number: &str, cvv: &str, pref: ThreeDsPreference) -> Authentication {
        let n = CardNumber::parse(number).unwrap();
        let cvv = Cvv::parse(cvv, n.brand()).unwrap();
        let expiry = Expiry { month: 12, year: 2030 };
        Simulator::default().authenticate_now(CardInput { number: &n, expiry, cvv: &cvv }, pref)
    }

    #[test]
    fn the_table_of_design_section_4() {
        use ThreeDsPreference::*;
        let r = |n: &str| format!("sim:{}", &n[n.len() - 4..]);
        assert_eq!(
            auth("4970100000000006", "123", NoPreference),
            Authentication::Frictionless { reference: r("4970100000000006") }
        );
        assert_eq!(
            auth("4970100000000014", "123", Frictionless),
            Authentication::Challenge { reference: r("4970100000000014") }
        );
        assert_eq!(
            auth("4970100000000022", "123", NoPreference),
            Authentication::Refused { code: "01078", outcome: ThreeDsOutcome::Failed }
        );
        assert_eq!(
            auth("5970100000000003", "123", NoPreference),
            Authentication::Frictionless { reference: r("5970100000000003") }
        );
        assert_eq!(
            auth("5970100000000003", "123", Challenge),
            Authentication::Challenge { reference: r("5970100000000003") }
        );
        assert_eq!(
            auth("4970100000000006", "000", NoPreference),
            Authentication::Refused { code: "01063", outcome: ThreeDsOutcome::NotPerformed }
        );
        assert_eq!(
            auth("4111111111111111", "123", NoPreference),
            Authentication::Refused { code: "01014", outcome: ThreeDsOutcome::NotPerformed }
        );
        let a = |n: &str, mit| Simulator::authorise_now(&r(n), mit);
        assert_eq!(a("4970100000000006", false), Authorisation { approved: true, code: "00000" });
        assert_eq!(a("4970100000000014", false), Authorisation { approved: true, code: "00000" });
        assert_eq!(a("4970100000000030", false), Authorisation { approved: false, code: "04059" });
        assert_eq!(a("4970100000000048", false), Authorisation { approved: false, code: "01005" });
        assert_eq!(a("4970100000000055", false), Authorisation { approved: true, code: "00000" });
        assert_eq!(a("4970100000000055", true), Authorisation { approved: false, code: "01057" });
        assert_eq!(a("5970100000000003", false), Authorisation { approved: true, code: "00000" });
        assert!(a("0000", false).code.starts_with("01"));
        assert!(TEST_CARDS.iter().all(|c| crate::domain::card::luhn(c.number)));
        let refs: Vec<_> = TEST_CARDS.iter().map(|c| r(c.number)).collect();
        assert!(refs.iter().all(|x| x.len() == 8), "a reference never carries the full number");
        assert!(TEST_CARDS.iter().all(|c| card_of(&r(c.number)).map(|t| t.number) == Some(c.number)), "unique");
    }

    #[tokio::test]
    async fn operations_are_kept_by_key_for_lookup() {
        use crate::domain::money::{Currency, Money};
        let sim = Simulator::default();
        let amount = Money { minor: 1500, currency: Currency::EUR };
        let op = |key| Operation { key, reference: "sim:0006", amount };
        assert!(sim.lookup("k1").await.is_err(), "unknown to the simulator: an error, not 'not found'");
        sim.capture(op("k1")).await.unwrap();
        assert_eq!(sim.lookup("k1").await, Ok(Looked::Done));
        let refused = sim.authorise(Operation { key: "k2", reference: "sim:0030", amount }, false).await.unwrap();
        assert!(!refused.approved);
        assert_eq!(sim.lookup("k2").await, Ok(Looked::Refused));
        assert!(matches!(
            sim.capture(Operation { key: "k3", reference: "sim:9999", amount }).await,
            Err(AcquirerError::Refused(_))
        ));
    }
}
