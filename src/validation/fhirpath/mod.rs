//! FHIRPath: parsing and evaluating the expressions of invariants and slicing discriminators.
