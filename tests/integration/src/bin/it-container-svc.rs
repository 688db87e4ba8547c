//! container-svc's own `main`, built as a binary of this package so that the scaling test
//! (`tests/scaling.rs`) always runs a fresh one through `CARGO_BIN_EXE_it-container-svc`:
//! cargo builds a package's binaries before its integration tests, never another package's.
//! The file is included rather than copied, so the process under test starts, reads its
//! configuration and handles SIGTERM exactly as the shipped `container-svc` does.

include!("../../../../services/container-svc/src/main.rs");
