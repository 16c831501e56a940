//! The vocabulary of the CLINS service (電子カルテ情報共有サービス): the document kinds and the
//! Bundle profiles that declare them, the identifier and code systems, the classes of
//! observations and retention, and which resources may not be written directly. Pure names and
//! rules over `serde_json::Value`, using nothing else of ours, so every layer can speak of CLINS
//! resources; the service rules that judge and register submissions live in `submissions`.

pub mod classes;
pub mod direct_write;
pub mod kinds;
pub mod systems;
