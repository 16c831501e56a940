//! FHIR NPM packages: loading, indexing, canonical resolution.
