//! The compact, prose-free model of the R4 base definitions (generated into fhir-schemas/).
