//! Syntax rules of the Japanese code systems and identifiers.
