//! A person's Consents as written, whoever recorded them: what a patient's document status
//! reads to say which institutions may view their documents and which they put on hold.

use diesel::prelude::*;

use super::schema::resources;
use super::{Conn, StoreError, dispatch};

/// One current Consent: the institution that recorded it (`None`: the patient) and its content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonConsent {
    pub id: String,
    pub institution: Option<String>,
    pub content: String,
}

impl Conn<'_> {
    /// The current (not deleted) Consents about `person`, oldest first.
    pub fn consents_of_person(&mut self, person: &str) -> Result<Vec<PersonConsent>, StoreError> {
        let rows: Vec<(String, Option<String>, Option<String>)> =
            dispatch!(self, |c, DB| resources::table
                .filter(resources::person_key.eq(person))
                .filter(resources::res_type.eq("Consent"))
                .filter(resources::deleted.eq(false))
                .order(resources::rkey)
                .select((
                    resources::res_id,
                    resources::institution,
                    resources::content
                ))
                .load(c))?;
        Ok(rows
            .into_iter()
            .filter_map(|(id, institution, content)| {
                content.map(|content| PersonConsent {
                    id,
                    institution,
                    content,
                })
            })
            .collect())
    }
}
