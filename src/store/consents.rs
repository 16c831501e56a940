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

/// [`PersonConsent`] as loaded: a deletion marker has no content and is left out.
#[derive(Queryable, Selectable)]
#[diesel(table_name = resources)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
struct ConsentRow {
    res_id: String,
    institution: Option<String>,
    content: Option<String>,
}

impl Conn<'_> {
    /// The current (not deleted) Consents about `person`, oldest first.
    pub(super) fn consents_of_person(
        &mut self,
        person: &str,
    ) -> Result<Vec<PersonConsent>, StoreError> {
        let rows = dispatch!(self, |c, DB| resources::table
            .filter(resources::person_key.eq(person))
            .filter(resources::res_type.eq("Consent"))
            .filter(resources::deleted.eq(false))
            .order(resources::rkey)
            .select(ConsentRow::as_select())
            .load::<ConsentRow>(c))?;
        Ok(rows
            .into_iter()
            .filter_map(|r| {
                Some(PersonConsent {
                    id: r.res_id,
                    institution: r.institution,
                    content: r.content?,
                })
            })
            .collect())
    }
}
