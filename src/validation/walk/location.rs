//! Issue locations built by appending to the parent's: the walk makes one for every element it
//! visits, so they are written with `push_str` rather than `format!`, whose formatting machinery
//! cost a seventh of a bundle's validation.

/// `parent` followed by `suffix` (`.name`, `.name.ofType(Type)`).
pub(crate) fn joined(parent: &str, suffix: &str) -> String {
    let mut s = String::with_capacity(parent.len() + suffix.len());
    s.push_str(parent);
    s.push_str(suffix);
    s
}

/// `parent.name`.
pub(crate) fn member(parent: &str, name: &str) -> String {
    let mut s = String::with_capacity(parent.len() + name.len() + 1);
    s.push_str(parent);
    s.push('.');
    s.push_str(name);
    s
}

/// `parent[i]`.
pub(crate) fn indexed(parent: &str, i: usize) -> String {
    let mut s = String::with_capacity(parent.len() + 6);
    s.push_str(parent);
    push_index(&mut s, i);
    s
}

/// Appends `[i]`.
pub(crate) fn push_index(s: &mut String, i: usize) {
    let mut digits = [0u8; 20];
    let mut n = i;
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    s.push('[');
    for &d in &digits[at..] {
        s.push(char::from(d));
    }
    s.push(']');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_read_as_format_would_write_them() {
        assert_eq!(joined("Bundle", ".entry"), "Bundle.entry");
        assert_eq!(
            member("Bundle.entry[0]", "resource"),
            "Bundle.entry[0].resource"
        );
        for i in [0, 7, 10, 99, 1234, usize::MAX] {
            assert_eq!(indexed("a", i), format!("a[{i}]"));
        }
    }
}
