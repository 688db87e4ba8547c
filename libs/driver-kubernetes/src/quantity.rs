//! Scales ResourceQuota quantities (`"2"`, `"500m"`, `"4Gi"`) by a node count.
//!
//! Only the simple forms quota limits are written in are understood: a whole number with an
//! optional SI or binary suffix, or a decimal without a suffix (kept exact as millis). Anything
//! else is refused when the driver is configured, not silently rounded.

/// Suffixes a whole number may carry; the scaled value keeps the same suffix.
const SUFFIXES: &[&str] = &[
    "", "m", "k", "M", "G", "T", "P", "E", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei",
];

/// Why a quantity cannot be scaled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuantityError {
    #[error(
        "{0:?} is not a quantity this driver can scale (use a whole number with an optional suffix m, k, M, G, T, P, E, Ki, Mi, Gi, Ti, Pi or Ei, or a plain decimal such as 0.5)"
    )]
    Unsupported(String),
    #[error("{0:?} multiplied by {1} is too large")]
    Overflow(String, u32),
}

/// `quantity` multiplied by `factor`, in the same unit (`"4Gi" × 3 = "12Gi"`, `"0.5" × 3 =
/// "1500m"`).
pub fn scale(quantity: &str, factor: u32) -> Result<String, QuantityError> {
    let unsupported = || QuantityError::Unsupported(quantity.to_owned());
    let split = quantity
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(quantity.len());
    let (number, suffix) = quantity.split_at(split);
    if !SUFFIXES.contains(&suffix) {
        return Err(unsupported());
    }
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return Err(unsupported());
    }
    let (value, suffix) = if number.contains('.') {
        // A decimal is exact only as millis; with a suffix it would need unit conversion.
        if !suffix.is_empty() || fraction.is_empty() || fraction.len() > 3 {
            return Err(unsupported());
        }
        let millis = format!("{whole}{fraction:0<3}");
        (millis.parse::<u128>().map_err(|_| unsupported())?, "m")
    } else {
        (whole.parse::<u128>().map_err(|_| unsupported())?, suffix)
    };
    let scaled = value
        .checked_mul(u128::from(factor))
        .filter(|v| *v <= u128::from(u64::MAX))
        .ok_or_else(|| QuantityError::Overflow(quantity.to_owned(), factor))?;
    // "1500m" reads better than a decimal, but whole cores read better still.
    if suffix == "m" && number.contains('.') && scaled % 1000 == 0 {
        return Ok((scaled / 1000).to_string());
    }
    Ok(format!("{scaled}{suffix}"))
}

#[cfg(test)]
#[path = "quantity_test.rs"]
mod tests;
