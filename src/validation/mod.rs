//! Validation: is an instance valid against the profiles of the loaded packages
//! ([`crate::packages`]) and the base model ([`crate::model`])? FHIRPath, the terminology
//! question the walker asks (`binding_check`), snapshots generated from differentials
//! (`snapshot`), the profile walk (`walk`), and the bounded pool validations run on (`pool`).

pub mod binding_check;
pub mod dispatch;
pub mod fhirpath;
pub mod pool;
pub mod questionnaire;
pub mod snapshot;
pub mod validator;
pub mod valuesets;
pub mod walk;

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests_entry_versions;
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests_validator;

pub use validator::{Validator, ValidatorError, ValidatorOptions, has_errors};
