//! Subjects: which stream a subject belongs to, validation, the test prefix, and NATS
//! wildcard matching (`*` is one token, `>` is one or more trailing tokens).

use std::time::Duration;

use crate::{BusError, ConsumerSpec, Message};

/// How long a message id is remembered for deduplication. Longer than JetStream's 2-minute
/// default so a relay that dies between publish and delete, and is replaced minutes later,
/// still republishes into the same window.
pub const DUPLICATE_WINDOW: Duration = Duration::from_secs(10 * 60);

/// How long the events stream keeps messages.
pub const EVENTS_MAX_AGE: Duration = Duration::from_secs(7 * 24 * 60 * 60);

/// The two streams of the bus.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum StreamKind {
    /// `magnum.ops.>`: work-queue retention, a message is gone once acknowledged.
    Ops,
    /// `magnum.events.>`: limits retention, every durable sees every message.
    Events,
}

impl StreamKind {
    pub(crate) const ALL: [StreamKind; 2] = [StreamKind::Ops, StreamKind::Events];

    pub(crate) fn root(self) -> &'static str {
        match self {
            Self::Ops => "magnum.ops",
            Self::Events => "magnum.events",
        }
    }

    pub(crate) fn base_name(self) -> &'static str {
        match self {
            Self::Ops => "MAGNUM_OPS",
            Self::Events => "MAGNUM_EVENTS",
        }
    }

    pub(crate) fn work_queue(self) -> bool {
        matches!(self, Self::Ops)
    }

    pub(crate) fn index(self) -> usize {
        match self {
            Self::Ops => 0,
            Self::Events => 1,
        }
    }

    /// The stream a subject or filter belongs to, and the tokens after the root.
    fn split(subject: &str) -> Option<(StreamKind, &str)> {
        Self::ALL.into_iter().find_map(|kind| {
            subject
                .strip_prefix(kind.root())
                .and_then(|rest| rest.strip_prefix('.'))
                .map(|rest| (kind, rest))
        })
    }
}

const NAMESPACE_HINT: &str = "subjects must start with magnum.ops. or magnum.events.";

fn literal_token(token: &str) -> bool {
    !token.is_empty()
        && !token
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '*' || c == '>')
}

/// The stream a publish subject goes to; wildcards and other namespaces are refused.
pub(crate) fn publish_stream(subject: &str) -> Result<StreamKind, BusError> {
    let (kind, rest) =
        StreamKind::split(subject).ok_or_else(|| BusError::subject(subject, NAMESPACE_HINT))?;
    if !rest.split('.').all(literal_token) {
        return Err(BusError::subject(
            subject,
            "tokens must be non-empty, without spaces or wildcards",
        ));
    }
    Ok(kind)
}

/// The stream a consumer filter reads; it may use `*` and a trailing `>`, but cannot
/// span both streams.
pub(crate) fn filter_stream(filter: &str) -> Result<StreamKind, BusError> {
    let (kind, rest) =
        StreamKind::split(filter).ok_or_else(|| BusError::subject(filter, NAMESPACE_HINT))?;
    let tokens: Vec<&str> = rest.split('.').collect();
    for (i, token) in tokens.iter().enumerate() {
        let ok = match *token {
            "*" => true,
            ">" => i + 1 == tokens.len(),
            other => literal_token(other),
        };
        if !ok {
            return Err(BusError::subject(
                filter,
                "tokens must be non-empty; `*` and `>` stand alone, `>` only last",
            ));
        }
    }
    Ok(kind)
}

/// The stream a watch filter reads: events only, since reading operations without a
/// durable would race the work queue's own consumers (and see nothing they acked).
pub(crate) fn watch_stream(filter: &str) -> Result<StreamKind, BusError> {
    match filter_stream(filter)? {
        StreamKind::Events => Ok(StreamKind::Events),
        StreamKind::Ops => Err(BusError::subject(
            filter,
            "operations are a work queue and cannot be watched; \
             watch magnum.events.… or consume magnum.ops.… with a durable",
        )),
    }
}

/// Whether some subject matches both filters (a literal subject is a filter too).
pub(crate) fn overlap(a: &str, b: &str) -> bool {
    let mut left = a.split('.');
    let mut right = b.split('.');
    loop {
        match (left.next(), right.next()) {
            (None, None) => return true,
            (Some(">"), Some(_)) | (Some(_), Some(">")) => return true,
            (Some(x), Some(y)) => {
                if x != y && x != "*" && y != "*" {
                    return false;
                }
            }
            // `>` needs at least one token, so a length difference without it never matches.
            _ => return false,
        }
    }
}

/// Whether a literal subject matches a filter.
pub(crate) fn matches(filter: &str, subject: &str) -> bool {
    overlap(filter, subject)
}

/// Checks the prefix from `BusConfig`: lower-case letters, digits and `_`, starting with a letter.
pub(crate) fn validate_prefix(prefix: &str) -> Result<(), BusError> {
    let ok = prefix.is_empty()
        || (prefix.starts_with(|c: char| c.is_ascii_lowercase())
            && prefix
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'));
    if ok {
        Ok(())
    } else {
        Err(BusError::Config(format!(
            "prefix {prefix:?}: use lower-case letters, digits and underscores, starting with a letter"
        )))
    }
}

/// The real subject on the wire (`t_abc.magnum.ops.x` for prefix `t_abc`).
pub(crate) fn prefixed(prefix: &str, subject: &str) -> String {
    if prefix.is_empty() {
        subject.to_owned()
    } else {
        format!("{prefix}.{subject}")
    }
}

/// The subject callers see: the wire subject without the prefix.
pub(crate) fn unprefixed<'a>(prefix: &str, subject: &'a str) -> &'a str {
    if prefix.is_empty() {
        return subject;
    }
    subject
        .strip_prefix(prefix)
        .and_then(|rest| rest.strip_prefix('.'))
        .unwrap_or(subject)
}

/// The stream name (`T_ABC_MAGNUM_OPS` for prefix `t_abc`).
pub(crate) fn stream_name(prefix: &str, kind: StreamKind) -> String {
    if prefix.is_empty() {
        kind.base_name().to_owned()
    } else {
        format!("{}_{}", prefix.to_ascii_uppercase(), kind.base_name())
    }
}

/// The service registry's key-value bucket, namespaced like the streams.
pub(crate) fn registry_bucket(prefix: &str) -> String {
    if prefix.is_empty() {
        "SERVICES".to_owned()
    } else {
        format!("{}_SERVICES", prefix.to_ascii_uppercase())
    }
}

fn valid_header_name(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_ascii_graphic() && c != ':')
}

/// Checks what both implementations refuse alike: the subject, the id, the headers.
pub(crate) fn validate_message(message: &Message) -> Result<StreamKind, BusError> {
    let kind = publish_stream(&message.subject)?;
    if message.id.is_empty() || message.id.len() > 256 || !valid_header_value(&message.id) {
        return Err(BusError::InvalidMessage(
            "the id must be 1 to 256 characters without line breaks".into(),
        ));
    }
    for (name, value) in &message.headers {
        if !valid_header_name(name) {
            return Err(BusError::InvalidMessage(format!(
                "header name {name:?} must be printable ASCII without ':'"
            )));
        }
        if name.eq_ignore_ascii_case("Nats-Msg-Id") {
            return Err(BusError::InvalidMessage(
                "set Message::id instead of a Nats-Msg-Id header".into(),
            ));
        }
        if !valid_header_value(value) {
            return Err(BusError::InvalidMessage(format!(
                "header {name:?} has a line break in its value"
            )));
        }
    }
    Ok(kind)
}

fn valid_header_value(value: &str) -> bool {
    !value.contains(['\r', '\n'])
}

/// Checks a consumer spec and returns the stream it reads.
pub(crate) fn validate_spec(spec: &ConsumerSpec) -> Result<StreamKind, BusError> {
    let durable = &spec.durable;
    if durable.is_empty()
        || durable.len() > 64
        || !durable
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err(BusError::consumer(
            durable,
            "use 1 to 64 ASCII letters, digits, '_' or '-'",
        ));
    }
    let kind = filter_stream(&spec.filter_subject)?;
    if spec.ack_wait.is_zero() {
        return Err(BusError::consumer(durable, "ack_wait must be positive"));
    }
    if spec.backoff.iter().any(Duration::is_zero) {
        return Err(BusError::consumer(
            durable,
            "backoff steps must be positive",
        ));
    }
    // JetStream's own rule: every backoff step needs a delivery attempt to use it.
    if !spec.backoff.is_empty()
        && spec.max_deliver > 0
        && spec.max_deliver <= i64::try_from(spec.backoff.len()).unwrap_or(i64::MAX)
    {
        return Err(BusError::consumer(
            durable,
            "max_deliver must be greater than the number of backoff steps",
        ));
    }
    Ok(kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn publish_subjects() {
        assert_eq!(
            publish_stream("magnum.ops.bay.create").ok(),
            Some(StreamKind::Ops)
        );
        assert_eq!(
            publish_stream("magnum.events.bay.deleted").ok(),
            Some(StreamKind::Events)
        );
        for bad in [
            "magnum.ops",
            "magnum.ops.",
            "magnum.opsx.a",
            "magnum.ops.*",
            "magnum.ops.a.>",
            "magnum.ops.a b",
            "magnum.ops..a",
            "foo.bar",
            "",
        ] {
            assert!(publish_stream(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn filters() {
        for good in [
            "magnum.ops.>",
            "magnum.ops.bay.>",
            "magnum.ops.*.create",
            "magnum.events.*",
        ] {
            assert!(filter_stream(good).is_ok(), "{good}");
        }
        for bad in [
            "magnum.>",
            "magnum.*.x",
            ">",
            "magnum.ops.>.x",
            "magnum.ops.a*",
            "magnum.ops",
        ] {
            assert!(filter_stream(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn wildcard_matching() {
        assert!(matches("magnum.ops.>", "magnum.ops.bay.create"));
        assert!(matches("magnum.ops.*.create", "magnum.ops.bay.create"));
        assert!(!matches("magnum.ops.*", "magnum.ops.bay.create"));
        assert!(!matches("magnum.ops.bay.>", "magnum.ops.bay"));
        assert!(matches("magnum.ops.bay", "magnum.ops.bay"));
        assert!(!matches("magnum.ops.bay", "magnum.ops.bays"));
    }

    #[test]
    fn filter_overlap() {
        assert!(overlap("magnum.ops.>", "magnum.ops.bay.>"));
        assert!(overlap("magnum.ops.bay.*", "magnum.ops.*.create"));
        assert!(!overlap("magnum.ops.bay.>", "magnum.ops.k8s.>"));
        assert!(!overlap("magnum.ops.bay.*", "magnum.ops.bay.*.x"));
        assert!(overlap("magnum.ops.bay.*.x", "magnum.ops.bay.>"));
    }

    #[test]
    fn prefixes() {
        assert!(validate_prefix("").is_ok());
        assert!(validate_prefix("t_abc1").is_ok());
        assert!(validate_prefix("T").is_err());
        assert!(validate_prefix("1a").is_err());
        assert!(validate_prefix("a.b").is_err());
        assert_eq!(stream_name("t_abc", StreamKind::Ops), "T_ABC_MAGNUM_OPS");
        assert_eq!(stream_name("", StreamKind::Events), "MAGNUM_EVENTS");
        assert_eq!(prefixed("t_abc", "magnum.ops.x"), "t_abc.magnum.ops.x");
        assert_eq!(unprefixed("t_abc", "t_abc.magnum.ops.x"), "magnum.ops.x");
        assert_eq!(unprefixed("", "magnum.ops.x"), "magnum.ops.x");
    }

    #[test]
    fn messages_and_specs() {
        let mut message = Message::new("magnum.ops.bay.create", "x");
        assert!(validate_message(&message).is_ok());
        message.headers.insert("bad name".into(), "v".into());
        assert!(validate_message(&message).is_err());
        let mut message = Message::new("magnum.ops.bay.create", "x");
        message.id.clear();
        assert!(validate_message(&message).is_err());

        let mut spec = ConsumerSpec::new("bay", "magnum.ops.bay.>");
        assert!(validate_spec(&spec).is_ok());
        spec.backoff = vec![Duration::from_secs(1); 3];
        spec.max_deliver = 3;
        assert!(validate_spec(&spec).is_err());
        spec.max_deliver = 4;
        assert!(validate_spec(&spec).is_ok());
        spec.durable = "a.b".into();
        assert!(validate_spec(&spec).is_err());
    }
}
