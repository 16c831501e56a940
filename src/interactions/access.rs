//! The access rules applied inside interactions (DESIGN §9): a single resource's visibility,
//! who may write, and ownership of what a write changes. The rules themselves
//! are data (`access::Scope`) that the store turns into SQL.

use super::write_tx::WriteTx;
use crate::access::{Caller, Principal};
use crate::error::Error;
use crate::messages::InteractionMessage;
use crate::store::{Scoped, SystemUse};

fn not_found(res_type: &str, id: &str) -> Error {
    Error::NotFound {
        res_type: res_type.into(),
        id: id.into(),
    }
}

/// Answers a resource that exists outside the caller's scope exactly as one that does not
/// exist (404, the same OperationOutcome): a 403 would tell the caller that it exists (issue
/// #20, finding 9). One that does not exist passes, for the caller to answer 404.
pub(crate) fn check_readable(
    scoped: &mut Scoped<'_>,
    res_type: &str,
    id: &str,
) -> Result<(), Error> {
    if scoped.hidden(res_type, id)? {
        Err(not_found(res_type, id))
    } else {
        Ok(())
    }
}

/// Only institutions write clinical data; patients, insurers and operators read.
pub(crate) fn check_may_write(caller: &Caller) -> Result<(), Error> {
    if caller.may_write() {
        Ok(())
    } else {
        Err(Error::Forbidden(
            InteractionMessage::RoleMayNotWrite {
                role: caller
                    .principal
                    .role()
                    .map_or("caller", |r| r.as_str())
                    .to_string(),
            }
            .into(),
        ))
    }
}

/// [`check_may_write`] for one resource type: a patient also writes Consents, their own
/// viewing consent (DESIGN §9: grant, withdraw, hold); whose record a Consent is about is
/// checked once its patient is resolved (`write::store_prepared`).
pub(crate) fn check_may_write_type(caller: &Caller, res_type: &str) -> Result<(), Error> {
    if res_type == "Consent" && matches!(caller.principal, Principal::Patient { .. }) {
        return Ok(());
    }
    check_may_write(caller)
}

/// An existing resource is changed or deleted only by the institution that wrote it. Another
/// institution that may read it is refused (403); one that may not gets the 404 of a
/// resource that does not exist, so a write never reveals what a read would not.
pub(crate) fn check_owner(tx: &mut WriteTx<'_, '_>, res_type: &str, id: &str) -> Result<(), Error> {
    let caller = &tx.session().caller;
    check_may_write_type(caller, res_type)?;
    let Some(mine) = caller.principal.institution() else {
        // A patient changes the Consents about them, whoever recorded them; another's answers
        // as one that does not exist.
        if matches!(caller.principal, Principal::Patient { .. }) {
            return check_readable(&mut tx.scoped()?, res_type, id);
        }
        return Ok(());
    };
    match tx
        .conn()
        .system(SystemUse::Ownership)
        .owner_of(res_type, id)?
    {
        None => Ok(()),
        Some(Some(owner)) if owner == mine => Ok(()),
        Some(_) => {
            if !tx.scoped()?.visible(res_type, id)? {
                return Err(not_found(res_type, id));
            }
            Err(Error::Forbidden(
                InteractionMessage::WrittenByAnother {
                    reference: format!("{res_type}/{id}"),
                }
                .into(),
            ))
        }
    }
}

/// A CLINS submission names its institution in the Bundle-ID; it must be the caller's.
pub fn check_submitter(caller: &Caller, institution: &str) -> Result<(), Error> {
    check_may_write(caller)?;
    match caller.principal.institution() {
        Some(mine) if mine != institution => Err(Error::Forbidden(
            InteractionMessage::SubmitsForOther {
                named: institution.to_string(),
                mine: mine.to_string(),
            }
            .into(),
        )),
        _ => Ok(()),
    }
}
