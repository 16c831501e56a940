//! CLINS documents: which Bundle a (sending institution, document identifier) pair registered,
//! its addressee and receipt, and the resources extracted from it. Written only inside the
//! document's transaction.

use diesel::prelude::*;

use super::schema::{document_members, documents};
use super::units::Member;
use super::{Conn, StoreError, dispatch};

/// Whether a document is in force. A cancelled one has no Bundle and no members any more; its
/// row remembers identifier, version and Bundle id so that re-posting it undoes the cancel. An
/// expired one has had its Bundle purged (the letter's retention), while what was extracted from
/// it stays in the patient's record under its own retention (DESIGN §8): the row keeps its member
/// list, so that the sender can still withdraw (cancel) or replace (a new version) that
/// contribution, until its last member is purged too and the row goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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

/// A document as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
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

type Row = (
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    i64,
    i64,
    Option<i64>,
    Option<String>,
);

fn to_row(r: Row) -> Result<DocumentRow, StoreError> {
    Ok(DocumentRow {
        document_key: r.0,
        kind: r.1,
        institution: r.2,
        document_identifier: r.3,
        version: r.4,
        status: DocumentStatus::parse(&r.5)?,
        bundle_identifier: r.6,
        bundle_id: r.7,
        patient_identifier: r.8,
        patient_id: r.9,
        recipient: r.10,
        registered_at: r.11,
        updated_at: r.12,
        received_at: r.13,
        received_by: r.14,
    })
}

macro_rules! document_columns {
    () => {
        (
            documents::document_key,
            documents::kind,
            documents::institution,
            documents::document_identifier,
            documents::version,
            documents::status,
            documents::bundle_identifier,
            documents::bundle_id,
            documents::patient_identifier,
            documents::patient_id,
            documents::recipient,
            documents::registered_at,
            documents::updated_at,
            documents::received_at,
            documents::received_by,
        )
    };
}

impl Conn<'_> {
    pub fn document(&mut self, document_key: &str) -> Result<Option<DocumentRow>, StoreError> {
        let rows: Vec<Row> = dispatch!(self, |c, DB| documents::table
            .filter(documents::document_key.eq(document_key))
            .select(document_columns!())
            .load(c))?;
        rows.into_iter().next().map(to_row).transpose()
    }

    /// The document whose Bundle has the logical id `bundle_id`.
    pub fn document_by_bundle_id(
        &mut self,
        bundle_id: &str,
    ) -> Result<Option<DocumentRow>, StoreError> {
        let rows: Vec<Row> = dispatch!(self, |c, DB| documents::table
            .filter(documents::bundle_id.eq(bundle_id))
            .select(document_columns!())
            .load(c))?;
        rows.into_iter().next().map(to_row).transpose()
    }

    /// Every document registered under a document identifier (one per sending institution).
    pub fn documents_by_identifier(
        &mut self,
        document_identifier: &str,
    ) -> Result<Vec<DocumentRow>, StoreError> {
        let rows: Vec<Row> = dispatch!(self, |c, DB| documents::table
            .filter(documents::document_identifier.eq(document_identifier))
            .select(document_columns!())
            .order(documents::document_key)
            .load(c))?;
        rows.into_iter().map(to_row).collect()
    }

    /// The active documents about any of `patient_ids` (a person's Patients), oldest first.
    pub fn documents_of_patients(
        &mut self,
        patient_ids: &[String],
    ) -> Result<Vec<DocumentRow>, StoreError> {
        let rows: Vec<Row> = dispatch!(self, |c, DB| documents::table
            .filter(documents::patient_id.eq_any(patient_ids))
            .filter(documents::status.eq(DocumentStatus::Active.as_str()))
            .select(document_columns!())
            .order((documents::registered_at, documents::document_key))
            .load(c))?;
        rows.into_iter().map(to_row).collect()
    }

    pub fn document_members(&mut self, document_key: &str) -> Result<Vec<Member>, StoreError> {
        let rows: Vec<(String, String, Option<String>)> =
            dispatch!(self, |c, DB| document_members::table
                .filter(document_members::document_key.eq(document_key))
                .select((
                    document_members::res_type,
                    document_members::res_id,
                    document_members::member_identifier,
                ))
                .order((document_members::res_type, document_members::res_id))
                .load(c))?;
        Ok(rows.into_iter().map(Member::from).collect())
    }

    /// Writes the document row and replaces its member list.
    pub fn put_document(
        &mut self,
        doc: &DocumentRow,
        members: &[Member],
    ) -> Result<(), StoreError> {
        dispatch!(self, |c, DB| {
            diesel::delete(
                document_members::table
                    .filter(document_members::document_key.eq(&doc.document_key)),
            )
            .execute(c)?;
            diesel::delete(documents::table.filter(documents::document_key.eq(&doc.document_key)))
                .execute(c)?;
            diesel::insert_into(documents::table)
                .values((
                    documents::document_key.eq(&doc.document_key),
                    documents::kind.eq(&doc.kind),
                    documents::institution.eq(&doc.institution),
                    documents::document_identifier.eq(&doc.document_identifier),
                    documents::version.eq(&doc.version),
                    documents::status.eq(doc.status.as_str()),
                    documents::bundle_identifier.eq(&doc.bundle_identifier),
                    documents::bundle_id.eq(&doc.bundle_id),
                    documents::patient_identifier.eq(&doc.patient_identifier),
                    documents::patient_id.eq(&doc.patient_id),
                    documents::recipient.eq(doc.recipient.as_deref()),
                    documents::registered_at.eq(doc.registered_at),
                    documents::updated_at.eq(doc.updated_at),
                    documents::received_at.eq(doc.received_at),
                    documents::received_by.eq(doc.received_by.as_deref()),
                ))
                .execute(c)?;
            for m in members {
                diesel::insert_into(document_members::table)
                    .values((
                        document_members::document_key.eq(&doc.document_key),
                        document_members::res_type.eq(&m.res_type),
                        document_members::res_id.eq(&m.res_id),
                        document_members::member_identifier.eq(m.member_identifier.as_deref()),
                    ))
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
        let n = dispatch!(self, |c, DB| diesel::update(
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
        dispatch!(self, |c, DB| {
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
        dispatch!(self, |c, DB| diesel::update(
            documents::table.filter(documents::document_key.eq(document_key))
        )
        .set(documents::status.eq(status.as_str()))
        .execute(c))?;
        Ok(())
    }

    /// Brings a resource's expiry forward to `at` if it is later (or unset).
    pub fn expire_by(&mut self, res_type: &str, id: &str, at: i64) -> Result<(), StoreError> {
        use super::schema::resources;
        dispatch!(self, |c, DB| diesel::update(
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
