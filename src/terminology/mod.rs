//! Japanese terminology: the syntax of the national code systems (JLAC10/11, YJ, J-FAGY, MEDIS
//! and レセ電 disease codes, institution and Bundle identifiers), the import of master lists and
//! FHIR CodeSystems/ValueSets into the database, and the in-memory index the validator and the
//! terminology operations read.

pub mod import;
pub mod index;
pub mod model;
pub mod shipped;
pub mod sync;
pub mod syntax;

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests_lists;

pub use index::{Masters, SystemInfo, Terminology, ValueSetInfo};
pub use model::{Content, ImportSet, MasterConcept, MasterSystem};
