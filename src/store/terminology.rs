//! Imported terminology: code systems with their concepts, ValueSet resources, and the import
//! log. A re-import replaces the previous import of the same canonical URL inside the caller's
//! transaction, so readers see the old list or the new one, never a mix.

use diesel::prelude::*;

use super::schema::{code_system_concepts, code_systems, terminology_imports, value_sets};
use super::{Conn, StoreError, dispatch};
use crate::terminology::{Content, MasterConcept, MasterSystem, StoredCodeSystem, StoredValueSet};

/// Rows per INSERT: five columns each, far below both backends' bound-parameter limits.
const CHUNK: usize = 2_000;

/// One line of the import log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportLogEntry {
    pub kind: String,
    pub url: String,
    pub version: Option<String>,
    pub source: String,
    pub imported_at: i64,
    pub concept_count: i64,
}

#[derive(Insertable)]
#[diesel(table_name = code_system_concepts)]
struct NewConcept<'a> {
    system_id: i64,
    seq: i64,
    code: &'a str,
    display: Option<&'a str>,
    parent: Option<&'a str>,
}

type SystemRow = (
    i64,
    String,
    Option<String>,
    String,
    String,
    bool,
    String,
    String,
    i64,
);

impl Conn<'_> {
    /// Replaces the stored import of `system.url` with `system` and logs the import. Call
    /// inside a write transaction.
    pub fn replace_code_system(
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
                .values((
                    code_systems::url.eq(&system.url),
                    code_systems::version.eq(system.version.as_deref()),
                    code_systems::name.eq(&system.name),
                    code_systems::content.eq(system.content.as_str()),
                    code_systems::case_sensitive.eq(system.case_sensitive),
                    code_systems::value_sets.eq(&value_sets),
                    code_systems::source.eq(source),
                    code_systems::imported_at.eq(now),
                    code_systems::concept_count.eq(count),
                ))
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
    pub fn replace_value_set(
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
                .values((
                    value_sets::url.eq(url),
                    value_sets::version.eq(version),
                    value_sets::source.eq(source),
                    value_sets::imported_at.eq(now),
                    value_sets::content.eq(content),
                ))
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
                .values((
                    terminology_imports::kind.eq(kind),
                    terminology_imports::url.eq(url),
                    terminology_imports::version.eq(version),
                    terminology_imports::source.eq(source),
                    terminology_imports::imported_at.eq(now),
                    terminology_imports::concept_count.eq(count),
                ))
                .execute(c)
        })?;
        Ok(())
    }

    /// Changes whenever an import lands: the newest import-log id (0 with none).
    pub fn terminology_generation(&mut self) -> Result<i64, StoreError> {
        let max: Option<i64> = dispatch!(self, |c, Db| {
            terminology_imports::table
                .select(diesel::dsl::max(terminology_imports::id))
                .first(c)
        })?;
        Ok(max.unwrap_or(0))
    }

    /// Every stored code system with its concepts in source order.
    pub fn load_code_systems(&mut self) -> Result<Vec<StoredCodeSystem>, StoreError> {
        let systems: Vec<SystemRow> = dispatch!(self, |c, Db| {
            code_systems::table
                .select((
                    code_systems::id,
                    code_systems::url,
                    code_systems::version,
                    code_systems::name,
                    code_systems::content,
                    code_systems::case_sensitive,
                    code_systems::value_sets,
                    code_systems::source,
                    code_systems::imported_at,
                ))
                .order(code_systems::url)
                .load(c)
        })?;
        let mut out = Vec::with_capacity(systems.len());
        for (id, url, version, name, content, case_sensitive, vs, source, imported_at) in systems {
            let rows: Vec<(String, Option<String>, Option<String>)> = dispatch!(self, |c, Db| {
                code_system_concepts::table
                    .filter(code_system_concepts::system_id.eq(id))
                    .order(code_system_concepts::seq)
                    .select((
                        code_system_concepts::code,
                        code_system_concepts::display,
                        code_system_concepts::parent,
                    ))
                    .load(c)
            })?;
            let content = Content::parse(&content).ok_or_else(|| {
                StoreError::Corrupt(format!("code system {url}: content {content}"))
            })?;
            let value_sets: Vec<String> = serde_json::from_str(&vs)
                .map_err(|e| StoreError::Corrupt(format!("code system {url}: value sets: {e}")))?;
            out.push(StoredCodeSystem {
                system: MasterSystem {
                    url,
                    version,
                    name,
                    content,
                    case_sensitive,
                    value_sets,
                    concepts: rows
                        .into_iter()
                        .map(|(code, display, parent)| MasterConcept {
                            code,
                            display,
                            parent,
                        })
                        .collect(),
                },
                source,
                imported_at,
            });
        }
        Ok(out)
    }

    pub fn load_value_sets(&mut self) -> Result<Vec<StoredValueSet>, StoreError> {
        let rows: Vec<(String, Option<String>, String, i64, String)> = dispatch!(self, |c, Db| {
            value_sets::table
                .select((
                    value_sets::url,
                    value_sets::version,
                    value_sets::source,
                    value_sets::imported_at,
                    value_sets::content,
                ))
                .order(value_sets::url)
                .load(c)
        })?;
        Ok(rows
            .into_iter()
            .map(
                |(url, version, source, imported_at, content)| StoredValueSet {
                    url,
                    version,
                    source,
                    imported_at,
                    content,
                },
            )
            .collect())
    }

    /// The import log, newest first.
    pub fn import_log(&mut self) -> Result<Vec<ImportLogEntry>, StoreError> {
        let rows: Vec<(String, String, Option<String>, String, i64, i64)> =
            dispatch!(self, |c, Db| {
                terminology_imports::table
                    .select((
                        terminology_imports::kind,
                        terminology_imports::url,
                        terminology_imports::version,
                        terminology_imports::source,
                        terminology_imports::imported_at,
                        terminology_imports::concept_count,
                    ))
                    .order(terminology_imports::id.desc())
                    .load(c)
            })?;
        Ok(rows
            .into_iter()
            .map(
                |(kind, url, version, source, imported_at, concept_count)| ImportLogEntry {
                    kind,
                    url,
                    version,
                    source,
                    imported_at,
                    concept_count,
                },
            )
            .collect())
    }
}
