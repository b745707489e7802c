//! Persons the EPJ no longer lists whose latest notification is sealed under an identity key
//! that is no longer there: they cannot be named, so everything of theirs today is held back
//! (`daily::sealed`).

use std::collections::HashSet;

use super::CaptureError;
use super::numbering::last_user;
use super::run::Run;
use crate::crypto::at_rest::IdentityKey;
use crate::daily::current::Current;
use crate::daily::state::PersonKey;
use crate::store::StoreError;
use crate::store::daily::DailyTx;

impl Run {
    /// A person the EPJ no longer lists is named as the register last heard of them; one
    /// whose latest notification is sealed under an identity key that is no longer there
    /// cannot be, so everything of theirs today is held back (`daily::sealed`).
    pub(super) async fn unnamed(
        &mut self,
        tx: &mut DailyTx,
        current: &Current,
        key: &IdentityKey,
    ) -> Result<(), StoreError> {
        let mut gone: Vec<PersonKey> = self
            .drafts
            .iter()
            .map(|d| d.person)
            .filter(|person| !current.users.contains_key(person))
            .collect();
        gone.sort();
        gone.dedup();
        if gone.is_empty() {
            return Ok(());
        }
        let mut unnamed: HashSet<PersonKey> = HashSet::new();
        for person in tx.persons(&gone).await? {
            match last_user(tx, &person.user_number, key).await {
                Ok(_) => {}
                Err(CaptureError::Key(_)) => {
                    unnamed.insert(person.key);
                }
                Err(CaptureError::Store(e)) => return Err(e),
                Err(e) => return Err(StoreError::Corrupt(e.to_string())),
            }
        }
        if unnamed.is_empty() {
            return Ok(());
        }
        let mut held = HashSet::new();
        self.hold_back(&unnamed, &mut held)?;
        let held = held.len();
        tracing::warn!(
            persons = unnamed.len(),
            services = held,
            "held back: persons the EPJ no longer lists, whose identity number is sealed under an identity key that is no longer there"
        );
        self.summary.unnamed_persons = unnamed.len();
        self.summary.unnamed_services = held;
        self.summary.held_services += held;
        Ok(())
    }
}
