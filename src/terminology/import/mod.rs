//! Reading code lists into [`ImportSet`](super::ImportSet)s.
