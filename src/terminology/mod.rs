//! Japanese terminology: the syntax of the national code systems (JLAC10/11, YJ, J-FAGY, MEDIS
//! and レセ電 disease codes, institution and Bundle identifiers), the old OIDs they are still
//! named by (`aliases`), the import of master lists and FHIR CodeSystems/ValueSets (stored by
//! `store::terminology_sync`), code systems indexed for membership and filters (`codesystem`),
//! and the in-memory index the validator and the terminology operations read.

pub mod aliases;
pub(crate) mod codesystem;
pub mod import;
pub mod index;
pub mod model;
pub mod shipped;
pub mod syntax;

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests_lists;

/// `kyoyu codesets` finds the loading of the masters here, until the command moves to the
/// command-line layer.
pub use aliases::canonical_system;
pub(crate) use codesystem::CodeSystemIndex;
pub use index::{Masters, StoredCodeSystem, StoredValueSet, SystemInfo, Terminology, ValueSetInfo};
pub use model::{Content, ImportSet, MasterConcept, MasterSystem};
