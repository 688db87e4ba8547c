#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

#[test]
fn whole_numbers_keep_their_suffix() {
    assert_eq!(scale("20", 3).unwrap(), "60");
    assert_eq!(scale("4Gi", 3).unwrap(), "12Gi");
    assert_eq!(scale("512Mi", 2).unwrap(), "1024Mi");
    assert_eq!(scale("500m", 3).unwrap(), "1500m");
    assert_eq!(scale("1k", 2).unwrap(), "2k");
    assert_eq!(scale("10", 0).unwrap(), "0");
}

#[test]
fn plain_decimals_become_millis() {
    assert_eq!(scale("0.5", 3).unwrap(), "1500m");
    assert_eq!(scale("1.25", 1).unwrap(), "1250m");
    assert_eq!(scale("0.5", 2).unwrap(), "1");
}

#[test]
fn unsupported_forms_are_refused() {
    for bad in [
        "", "abc", "1.5Gi", "1e3", "-1", "+1", "1..2", "1.2345", ".5", "1Gb", "Gi", "1.",
    ] {
        assert!(
            matches!(scale(bad, 2), Err(QuantityError::Unsupported(_))),
            "{bad}"
        );
    }
}

#[test]
fn overflow_is_an_error() {
    let huge = u64::MAX.to_string();
    assert!(matches!(scale(&huge, 2), Err(QuantityError::Overflow(..))));
    assert_eq!(scale(&huge, 1).unwrap(), huge);
}
