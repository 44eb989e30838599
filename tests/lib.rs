//! The integration suite is the `it` test binary (`it/main.rs`); this library is empty.
