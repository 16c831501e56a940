//! CLINS documents: which Bundle a (sending institution, document identifier) pair registered,
//! its addressee and receipt, and the resources extracted from it. Written only inside the
//! document's transaction.

use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::expression::AsExpression;
use diesel::prelude::*;
use diesel::serialize::{self, Output, ToSql};
use diesel::sql_types::Text;

use super::schema::{document_members, documents};
use super::units::Member;
use super::{Conn, StoreError, dispatch};

/// Whether a document is in force. A cancelled one has no Bundle and no members any more; its
/// row remembers identifier, version and Bundle id so that re-posting it undoes the cancel. An
/// expired one has had its Bundle purged (the letter's retention), while what was extracted from
/// it stays in the patient's record under its own retention (DESIGN §8): the row keeps its member
/// list, so that the sender can still withdraw (cancel) or replace (a new version) that
/// contribution, until its last member is purged too and the row goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, AsExpression, FromSqlRow)]
#[diesel(sql_type = Text)]
pub enum DocumentStatus {
    Active,
    Cancelled,
    Expired,
}

impl DocumentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DocumentStatus::Active => "active",
            DocumentStatus::Cancelled => "cancelled",
            DocumentStatus::Expired => "expired",
        }
    }

    /// Whether what it contributed to the patient's record is still there for the sender to
    /// withdraw or replace.
    pub fn contributes(self) -> bool {
        matches!(self, DocumentStatus::Active | DocumentStatus::Expired)
    }

    fn parse(s: &str) -> Result<Self, StoreError> {
        match s {
            "active" => Ok(DocumentStatus::Active),
            "cancelled" => Ok(DocumentStatus::Cancelled),
            "expired" => Ok(DocumentStatus::Expired),
            other => Err(StoreError::Corrupt(format!(
                "unknown document status '{other}'"
            ))),
        }
    }
}

/// Stored as its name.
impl<DB: Backend> ToSql<Text, DB> for DocumentStatus
where
    str: ToSql<Text, DB>,
{
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, DB>) -> serialize::Result {
        self.as_str().to_sql(out)
    }
}

/// A name it does not know fails the load as [`StoreError::Corrupt`].
impl<DB: Backend> FromSql<Text, DB> for DocumentStatus
where
    String: FromSql<Text, DB>,
{
    fn from_sql(bytes: DB::RawValue<'_>) -> deserialize::Result<Self> {
        Ok(DocumentStatus::parse(&String::from_sql(bytes)?)?)
    }
}

/// A document as stored.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = documents, treat_none_as_default_value = false)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct DocumentRow {
    pub document_key: String,
    /// `referral`, `checkup`, `patient-summary`.
    pub kind: String,
    /// The sending institution (the Bundle-ID's first 10 digits).
    pub institution: String,
    /// Composition.identifier value (文書ID).
    pub document_identifier: String,
    /// The composition-clinicaldocument-versionNumber of the registered content.
    pub version: String,
    pub status: DocumentStatus,
    pub bundle_identifier: String,
    pub bundle_id: String,
    pub patient_identifier: String,
    pub patient_id: String,
    /// The addressee's institution number (referrals).
    pub recipient: Option<String>,
    pub registered_at: i64,
    pub updated_at: i64,
    /// The addressee's first receipt.
    pub received_at: Option<i64>,
    pub received_by: Option<String>,
}

/// A member list row of a document.
#[derive(Insertable)]
#[diesel(table_name = document_members, treat_none_as_default_value = false)]
struct NewDocumentMember<'a> {
    document_key: &'a str,
    res_type: &'a str,
    res_id: &'a str,
    member_identifier: Option<&'a str>,
}

impl Conn<'_> {
    pub(super) fn document(
        &mut self,
        document_key: &str,
    ) -> Result<Option<DocumentRow>, StoreError> {
        let rows = dispatch!(self, |c, DB| documents::table
            .filter(documents::document_key.eq(document_key))
            .select(DocumentRow::as_select())
            .load::<DocumentRow>(c))?;
        Ok(rows.into_iter().next())
    }

    /// The document whose Bundle has the logical id `bundle_id`.
    pub(super) fn document_by_bundle_id(
        &mut self,
        bundle_id: &str,
    ) -> Result<Option<DocumentRow>, StoreError> {
        let rows = dispatch!(self, |c, DB| documents::table
            .filter(documents::bundle_id.eq(bundle_id))
            .select(DocumentRow::as_select())
            .load::<DocumentRow>(c))?;
        Ok(rows.into_iter().next())
    }

    /// Every document registered under a document identifier (one per sending institution).
    pub(super) fn documents_by_identifier(
        &mut self,
        document_identifier: &str,
    ) -> Result<Vec<DocumentRow>, StoreError> {
        Ok(dispatch!(self, |c, DB| documents::table
            .filter(documents::document_identifier.eq(document_identifier))
            .select(DocumentRow::as_select())
            .order(documents::document_key)
            .load(c))?)
    }

    /// The active documents about any of `patient_ids` (a person's Patients), oldest first.
    pub(super) fn documents_of_patients(
        &mut self,
        patient_ids: &[String],
    ) -> Result<Vec<DocumentRow>, StoreError> {
        Ok(dispatch!(self, |c, DB| documents::table
            .filter(documents::patient_id.eq_any(patient_ids))
            .filter(documents::status.eq(DocumentStatus::Active.as_str()))
            .select(DocumentRow::as_select())
            .order((documents::registered_at, documents::document_key))
            .load(c))?)
    }

    pub(super) fn document_members(
        &mut self,
        document_key: &str,
    ) -> Result<Vec<Member>, StoreError> {
        Ok(dispatch!(self, |c, DB| document_members::table
            .filter(document_members::document_key.eq(document_key))
            .select((
                document_members::res_type,
                document_members::res_id,
                document_members::member_identifier,
            ))
            .order((document_members::res_type, document_members::res_id))
            .load(c))?)
    }
}

/// A CLINS document's own rows: its registration, receipt, status and removal, and the
/// expiry its receipt brings forward. Obtained from a connection ([`Conn::documents`]) inside
/// the document's transaction.
pub struct DocumentRepo<'c> {
    conn: Conn<'c>,
}

impl Conn<'_> {
    /// The CLINS documents' writes on this connection.
    pub fn documents(&mut self) -> DocumentRepo<'_> {
        DocumentRepo {
            conn: self.reborrow(),
        }
    }
}

impl DocumentRepo<'_> {
    /// Writes the document row and replaces its member list.
    pub fn put_document(
        &mut self,
        doc: &DocumentRow,
        members: &[Member],
    ) -> Result<(), StoreError> {
        dispatch!(&mut self.conn, |c, DB| {
            diesel::delete(
                document_members::table
                    .filter(document_members::document_key.eq(&doc.document_key)),
            )
            .execute(c)?;
            diesel::delete(documents::table.filter(documents::document_key.eq(&doc.document_key)))
                .execute(c)?;
            diesel::insert_into(documents::table)
                .values(doc)
                .execute(c)?;
            for m in members {
                diesel::insert_into(document_members::table)
                    .values(NewDocumentMember {
                        document_key: &doc.document_key,
                        res_type: &m.res_type,
                        res_id: &m.res_id,
                        member_identifier: m.member_identifier.as_deref(),
                    })
                    .execute(c)?;
            }
            Ok::<(), diesel::result::Error>(())
        })?;
        Ok(())
    }

    /// Records the addressee's receipt unless one is recorded already: the first receipt is
    /// the one that counts. Returns whether this call recorded it.
    pub fn record_receipt(
        &mut self,
        document_key: &str,
        received_at: i64,
        received_by: &str,
    ) -> Result<bool, StoreError> {
        let n = dispatch!(&mut self.conn, |c, DB| diesel::update(
            documents::table
                .filter(documents::document_key.eq(document_key))
                .filter(documents::received_at.is_null())
        )
        .set((
            documents::received_at.eq(Some(received_at)),
            documents::received_by.eq(Some(received_by)),
        ))
        .execute(c))?;
        Ok(n > 0)
    }

    /// Forgets a document entirely (its row and member list), for the retention purge: an
    /// expired document leaves no trace but the purge audit.
    pub fn delete_document(&mut self, document_key: &str) -> Result<(), StoreError> {
        dispatch!(&mut self.conn, |c, DB| {
            diesel::delete(
                document_members::table.filter(document_members::document_key.eq(document_key)),
            )
            .execute(c)?;
            diesel::delete(documents::table.filter(documents::document_key.eq(document_key)))
                .execute(c)
        })?;
        Ok(())
    }

    /// Sets a document's status, leaving its row and members otherwise as they are.
    pub fn set_document_status(
        &mut self,
        document_key: &str,
        status: DocumentStatus,
    ) -> Result<(), StoreError> {
        dispatch!(&mut self.conn, |c, DB| diesel::update(
            documents::table.filter(documents::document_key.eq(document_key))
        )
        .set(documents::status.eq(status.as_str()))
        .execute(c))?;
        Ok(())
    }

    /// Brings a resource's expiry forward to `at` if it is later (or unset).
    pub fn expire_by(&mut self, res_type: &str, id: &str, at: i64) -> Result<(), StoreError> {
        use super::schema::resources;
        dispatch!(&mut self.conn, |c, DB| diesel::update(
            resources::table
                .filter(resources::res_type.eq(res_type))
                .filter(resources::res_id.eq(id))
                .filter(
                    resources::expires_at
                        .is_null()
                        .or(resources::expires_at.gt(at))
                )
        )
        .set(resources::expires_at.eq(Some(at)))
        .execute(c))?;
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::store::test_db::test_stores;

    fn referral(recipient: Option<&str>) -> DocumentRow {
        DocumentRow {
            document_key: "d1".into(),
            kind: "referral".into(),
            institution: "1311234567".into(),
            document_identifier: "doc-1".into(),
            version: "1".into(),
            status: DocumentStatus::Active,
            bundle_identifier: "1311234567^2026^1".into(),
            bundle_id: "b1".into(),
            patient_identifier: "p-1".into(),
            patient_id: "pat1".into(),
            recipient: recipient.map(str::to_string),
            registered_at: 1,
            updated_at: 2,
            received_at: None,
            received_by: None,
        }
    }

    /// The row struct is the table: what is put comes back field for field, a missing
    /// addressee as NULL; a status the code does not know is corrupt data, not a failed query.
    #[test]
    fn a_document_reads_back_as_written_and_an_unknown_status_is_corrupt() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        for t in test_stores() {
            rt.block_on(async {
                let s = t.store.clone();
                let member = Member {
                    res_type: "Condition".into(),
                    res_id: "c1".into(),
                    member_identifier: None,
                };
                for doc in [referral(None), referral(Some("1319876543"))] {
                    let (put, members) = (doc.clone(), vec![member.clone()]);
                    s.write(None, move |c| c.documents().put_document(&put, &members))
                        .await
                        .unwrap();
                    let read = s
                        .read(|c| {
                            Ok::<_, StoreError>((c.document("d1")?, c.document_members("d1")?))
                        })
                        .await
                        .unwrap();
                    assert_eq!(read, (Some(doc), vec![member.clone()]), "{}", t.backend);
                }
                s.write(None, |c| {
                    dispatch!(c, |c, DB| diesel::update(documents::table)
                        .set(documents::status.eq("withdrawn"))
                        .execute(c))?;
                    Ok::<_, StoreError>(())
                })
                .await
                .unwrap();
                let read = s.read(|c| c.document("d1")).await;
                assert!(
                    matches!(read, Err(StoreError::Corrupt(_))),
                    "{}: {read:?}",
                    t.backend
                );
            });
        }
    }
}
