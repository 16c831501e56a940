//! Type names shared for the life of the process: every element the walk visits carries its
//! type, and giving each one its own `String` was a tenth of a bundle's allocations. The names
//! come from the loaded definitions (a few hundred), never from a request, so the set is bounded.

use std::collections::HashSet;
use std::sync::{Mutex, OnceLock, PoisonError};

/// The one `'static` copy of `name`.
pub(crate) fn intern(name: &str) -> &'static str {
    static NAMES: OnceLock<Mutex<HashSet<&'static str>>> = OnceLock::new();
    let names = NAMES.get_or_init(Mutex::default);
    let mut names = names.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(&known) = names.get(name) {
        return known;
    }
    let leaked: &'static str = Box::leak(name.to_owned().into_boxed_str());
    names.insert(leaked);
    leaked
}

#[cfg(test)]
mod tests {
    use super::intern;

    #[test]
    fn one_copy_per_name() {
        let a = intern("CodeableConcept");
        let b = intern(&String::from("CodeableConcept"));
        assert_eq!(a, "CodeableConcept");
        assert!(std::ptr::eq(a, b));
        assert!(!std::ptr::eq(intern("Coding"), a));
    }
}
