//! `kyoyu package …`, the command over [`crate::packages`]. The packages' names are re-exported
//! here, where the command has always found them, until it moves to the command-line layer.

pub mod command;

pub use crate::packages::*;
