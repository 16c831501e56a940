//! Imported terminology: code systems with their concepts, ValueSet resources, and the import
//! log. A re-import replaces the previous import of the same canonical URL inside the caller's
//! transaction, so readers see the old list or the new one, never a mix.

use diesel::prelude::*;

use super::schema::{code_system_concepts, code_systems, terminology_imports, value_sets};
use super::{Conn, StoreError, dispatch};
use crate::terminology::{Content, MasterConcept, MasterSystem, StoredCodeSystem, StoredValueSet};

/// Rows per INSERT: five columns each, far below both backends' bound-parameter limits.
const CHUNK: usize = 2_000;

#[derive(Insertable)]
#[diesel(table_name = code_system_concepts)]
struct NewConcept<'a> {
    system_id: i64,
    seq: i64,
    code: &'a str,
    display: Option<&'a str>,
    parent: Option<&'a str>,
}

#[derive(Insertable)]
#[diesel(table_name = code_systems, treat_none_as_default_value = false)]
struct NewCodeSystem<'a> {
    url: &'a str,
    version: Option<&'a str>,
    name: &'a str,
    content: &'a str,
    case_sensitive: bool,
    /// JSON array of the value sets defined as the whole system.
    value_sets: &'a str,
    source: &'a str,
    imported_at: i64,
    concept_count: i64,
}

#[derive(Insertable)]
#[diesel(table_name = value_sets, treat_none_as_default_value = false)]
struct NewValueSet<'a> {
    url: &'a str,
    version: Option<&'a str>,
    source: &'a str,
    imported_at: i64,
    content: &'a str,
}

#[derive(Insertable)]
#[diesel(table_name = terminology_imports, treat_none_as_default_value = false)]
struct NewImport<'a> {
    kind: &'a str,
    url: &'a str,
    version: Option<&'a str>,
    source: &'a str,
    imported_at: i64,
    concept_count: i64,
}

/// A stored code system without its concepts, as loaded before they are.
#[derive(Queryable, Selectable)]
#[diesel(table_name = code_systems)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
struct SystemRow {
    id: i64,
    url: String,
    version: Option<String>,
    name: String,
    content: String,
    case_sensitive: bool,
    value_sets: String,
    source: String,
    imported_at: i64,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = code_system_concepts)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
struct ConceptRow {
    code: String,
    display: Option<String>,
    parent: Option<String>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = value_sets)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
struct ValueSetRow {
    url: String,
    version: Option<String>,
    source: String,
    imported_at: i64,
    content: String,
}

impl Conn<'_> {
    /// Replaces the stored import of `system.url` with `system` and logs the import. Call
    /// inside a write transaction.
    pub(super) fn replace_code_system(
        &mut self,
        system: &MasterSystem,
        source: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        let value_sets = serde_json::to_string(&system.value_sets)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let count = i64::try_from(system.concepts.len()).unwrap_or(i64::MAX);
        dispatch!(self, |c, Db| {
            diesel::delete(code_systems::table.filter(code_systems::url.eq(&system.url)))
                .execute(c)?;
            let id: i64 = diesel::insert_into(code_systems::table)
                .values(NewCodeSystem {
                    url: &system.url,
                    version: system.version.as_deref(),
                    name: &system.name,
                    content: system.content.as_str(),
                    case_sensitive: system.case_sensitive,
                    value_sets: &value_sets,
                    source,
                    imported_at: now,
                    concept_count: count,
                })
                .returning(code_systems::id)
                .get_result(c)?;
            for (n, chunk) in system.concepts.chunks(CHUNK).enumerate() {
                let rows: Vec<NewConcept<'_>> = chunk
                    .iter()
                    .enumerate()
                    .map(|(i, concept)| NewConcept {
                        system_id: id,
                        seq: i64::try_from(n * CHUNK + i).unwrap_or(i64::MAX),
                        code: &concept.code,
                        display: concept.display.as_deref(),
                        parent: concept.parent.as_deref(),
                    })
                    .collect();
                diesel::insert_into(code_system_concepts::table)
                    .values(&rows)
                    .execute(c)?;
            }
            Ok::<(), diesel::result::Error>(())
        })?;
        self.log_import(
            "CodeSystem",
            &system.url,
            system.version.as_deref(),
            source,
            now,
            count,
        )
    }

    /// Replaces the stored ValueSet `url` and logs the import. Call inside a write transaction.
    pub(super) fn replace_value_set(
        &mut self,
        url: &str,
        version: Option<&str>,
        source: &str,
        now: i64,
        content: &str,
    ) -> Result<(), StoreError> {
        dispatch!(self, |c, Db| {
            diesel::delete(value_sets::table.filter(value_sets::url.eq(url))).execute(c)?;
            diesel::insert_into(value_sets::table)
                .values(NewValueSet {
                    url,
                    version,
                    source,
                    imported_at: now,
                    content,
                })
                .execute(c)?;
            Ok::<(), diesel::result::Error>(())
        })?;
        self.log_import("ValueSet", url, version, source, now, 0)
    }

    fn log_import(
        &mut self,
        kind: &str,
        url: &str,
        version: Option<&str>,
        source: &str,
        now: i64,
        count: i64,
    ) -> Result<(), StoreError> {
        dispatch!(self, |c, Db| {
            diesel::insert_into(terminology_imports::table)
                .values(NewImport {
                    kind,
                    url,
                    version,
                    source,
                    imported_at: now,
                    concept_count: count,
                })
                .execute(c)
        })?;
        Ok(())
    }

    /// Changes whenever an import lands: the newest import-log id (0 with none).
    pub(super) fn terminology_generation(&mut self) -> Result<i64, StoreError> {
        let max: Option<i64> = dispatch!(self, |c, Db| {
            terminology_imports::table
                .select(diesel::dsl::max(terminology_imports::id))
                .first(c)
        })?;
        Ok(max.unwrap_or(0))
    }

    /// Every stored code system with its concepts in source order.
    pub(super) fn load_code_systems(&mut self) -> Result<Vec<StoredCodeSystem>, StoreError> {
        let systems = dispatch!(self, |c, Db| {
            code_systems::table
                .select(SystemRow::as_select())
                .order(code_systems::url)
                .load::<SystemRow>(c)
        })?;
        let mut out = Vec::with_capacity(systems.len());
        for s in systems {
            let rows = dispatch!(self, |c, Db| {
                code_system_concepts::table
                    .filter(code_system_concepts::system_id.eq(s.id))
                    .order(code_system_concepts::seq)
                    .select(ConceptRow::as_select())
                    .load::<ConceptRow>(c)
            })?;
            let url = s.url;
            let content = Content::parse(&s.content).ok_or_else(|| {
                StoreError::Corrupt(format!("code system {url}: content {}", s.content))
            })?;
            let value_sets: Vec<String> = serde_json::from_str(&s.value_sets)
                .map_err(|e| StoreError::Corrupt(format!("code system {url}: value sets: {e}")))?;
            out.push(StoredCodeSystem {
                system: MasterSystem {
                    url,
                    version: s.version,
                    name: s.name,
                    content,
                    case_sensitive: s.case_sensitive,
                    value_sets,
                    concepts: rows
                        .into_iter()
                        .map(|r| MasterConcept {
                            code: r.code,
                            display: r.display,
                            parent: r.parent,
                        })
                        .collect(),
                },
                source: s.source,
                imported_at: s.imported_at,
            });
        }
        Ok(out)
    }

    pub(super) fn load_value_sets(&mut self) -> Result<Vec<StoredValueSet>, StoreError> {
        let rows = dispatch!(self, |c, Db| {
            value_sets::table
                .select(ValueSetRow::as_select())
                .order(value_sets::url)
                .load::<ValueSetRow>(c)
        })?;
        Ok(rows
            .into_iter()
            .map(|r| StoredValueSet {
                url: r.url,
                version: r.version,
                source: r.source,
                imported_at: r.imported_at,
                content: r.content,
            })
            .collect())
    }
}
