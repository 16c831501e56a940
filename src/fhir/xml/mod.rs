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

// The error and the namespaces are named by the catalogue's texts, so they are defined there.
pub use crate::messages::markup::{FHIR_NS, XHTML_NS, XmlError};
pub use write::to_xml;

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests;
