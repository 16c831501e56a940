//! Validation: FHIR packages and their definitions, the compact base model, FHIRPath, and (to come)
//! the compiled profile plans that check an instance against its profiles.

pub mod fhirpath;
pub mod model;
pub mod packages;
