//! Timestamps as Magnum writes them (spec §1.5): ISO 8601 with a `+00:00` offset and
//! microseconds only when there are any, like Python's `isoformat()`.

use chrono::{DateTime, Utc};

/// `2016-08-29T06:51:31+00:00` or `2016-08-29T06:51:31.123456+00:00`.
pub fn format_timestamp(timestamp: &prost_types::Timestamp) -> String {
    let nanos = u32::try_from(timestamp.nanos).unwrap_or(0);
    let Some(time) = DateTime::<Utc>::from_timestamp(timestamp.seconds, nanos) else {
        // Outside chrono's range: only a broken backend sends that; show the raw seconds.
        return timestamp.seconds.to_string();
    };
    let micros = time.timestamp_subsec_micros();
    if micros == 0 {
        time.format("%Y-%m-%dT%H:%M:%S+00:00").to_string()
    } else {
        format!("{}.{micros:06}+00:00", time.format("%Y-%m-%dT%H:%M:%S"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_python_isoformat() {
        let whole = prost_types::Timestamp {
            seconds: 1_472_453_491,
            nanos: 0,
        };
        assert_eq!(format_timestamp(&whole), "2016-08-29T06:51:31+00:00");
        let fraction = prost_types::Timestamp {
            seconds: 1_472_453_491,
            nanos: 120_000_999,
        };
        assert_eq!(
            format_timestamp(&fraction),
            "2016-08-29T06:51:31.120000+00:00"
        );
    }
}
