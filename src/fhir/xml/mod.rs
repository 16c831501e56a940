//! FHIR XML, to and from the server's internal form (the FHIR JSON `serde_json::Value`).
//! Spec: <https://hl7.org/fhir/R4/xml.html>
//!
//! The map: `layout` knows, from the compact base model, the definition order of every element
//! and how it is written; [`write`] turns a resource into XML in that order; `read` parses XML
//! safely (no DTD, no entities beyond the five predefined and character references, bounded
//! depth) into the same JSON a client would have sent. Validation therefore never sees which
//! format arrived.

mod layout;
pub(crate) mod problem;
mod read;
mod write;

pub use read::parse_resource;

use crate::messages::Language;
use crate::messages::markup::{XmlProblem, XmlStructure};
pub use write::to_xml;

pub const FHIR_NS: &str = "http://hl7.org/fhir";
pub const XHTML_NS: &str = "http://www.w3.org/1999/xhtml";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum XmlError {
    #[error("the body is empty")]
    Empty,
    #[error("the body is not UTF-8: byte 0x{byte:02X} at line {line}, column {column}")]
    NotUtf8 {
        byte: u8,
        line: usize,
        column: usize,
    },
    #[error(
        "malformed XML at line {line}, column {column}: {}",
        .problem.render(Language::English)
    )]
    Syntax {
        problem: XmlProblem,
        line: usize,
        column: usize,
    },
    /// DTDs are refused outright: they are how entity expansion attacks and external entities
    /// get in, and FHIR XML never needs one.
    #[error("XML with a document type declaration is not accepted (line {line}, column {column})")]
    Doctype { line: usize, column: usize },
    #[error("XML nesting deeper than {max} levels (line {line}, column {column})")]
    TooDeep {
        max: usize,
        line: usize,
        column: usize,
    },
    #[error(
        "not FHIR XML at line {line}, column {column}: {}",
        .problem.render(Language::English)
    )]
    Structure {
        problem: XmlStructure,
        line: usize,
        column: usize,
    },
    /// The internal form holds something XML cannot carry (no resourceType, a name that is no
    /// XML name).
    #[error("the resource cannot be written as XML: {0}")]
    Unwritable(String),
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests;
