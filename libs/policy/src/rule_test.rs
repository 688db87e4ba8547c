//! Unit tests of `rule`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

fn parse(text: &str) -> Rule {
    Rule::parse(text).unwrap_or_else(|e| panic!("{text:?} should parse: {e}"))
}

fn error(text: &str) -> String {
    match Rule::parse(text) {
        Ok(rule) => panic!("{text:?} should not parse, got {rule:?}"),
        Err(e) => e.to_string(),
    }
}

fn role(name: &str) -> Rule {
    Rule::Role(Template(vec![Piece::Text(name.to_owned())]))
}

fn reference(name: &str) -> Rule {
    Rule::Ref(name.to_owned())
}

fn subject<'a>(roles: &'a [String], is_admin: bool) -> Subject<'a> {
    Subject {
        user_id: "u1",
        project_id: "p1",
        roles,
        is_admin,
        target_project_id: "p1",
        target_user_id: "u1",
    }
}

/// Evaluates a self-contained rule (no `rule:` references).
fn eval(text: &str, subject: &Subject<'_>) -> bool {
    parse(text).eval(subject, &|_| None)
}

#[test]
fn checks_parse_into_their_kinds() {
    assert_eq!(parse("@"), Rule::Always);
    assert_eq!(parse("!"), Rule::Never);
    assert_eq!(parse(""), Rule::Always);
    assert_eq!(parse("role:admin"), role("admin"));
    assert_eq!(parse("rule:bay:create"), reference("bay:create"));
    assert_eq!(parse("is_admin:True"), Rule::IsAdmin(true));
    assert_eq!(parse("is_admin:False"), Rule::IsAdmin(false));
    assert_eq!(
        parse("project_id:%(project_id)s"),
        Rule::Equals(
            Attr::ProjectId,
            Template(vec![Piece::Target(Attr::ProjectId)])
        )
    );
    assert_eq!(
        parse("user_id:u-%(user_id)s-x"),
        Rule::Equals(
            Attr::UserId,
            Template(vec![
                Piece::Text("u-".into()),
                Piece::Target(Attr::UserId),
                Piece::Text("-x".into()),
            ])
        )
    );
    assert_eq!(
        parse("project_id:100%%"),
        Rule::Equals(Attr::ProjectId, Template(vec![Piece::Text("100%".into())]))
    );
}

#[test]
fn not_binds_tighter_than_and_which_binds_tighter_than_or() {
    assert_eq!(
        parse("role:a or role:b and role:c"),
        Rule::Or(vec![role("a"), Rule::And(vec![role("b"), role("c")])])
    );
    assert_eq!(
        parse("role:a and role:b or role:c"),
        Rule::Or(vec![Rule::And(vec![role("a"), role("b")]), role("c")])
    );
    assert_eq!(
        parse("not role:a and role:b"),
        Rule::And(vec![Rule::Not(Box::new(role("a"))), role("b")])
    );
    assert_eq!(
        parse("not not role:a"),
        Rule::Not(Box::new(Rule::Not(Box::new(role("a")))))
    );
    assert_eq!(
        parse("role:a or role:b or role:c"),
        Rule::Or(vec![role("a"), role("b"), role("c")])
    );
}

#[test]
fn parentheses_group_and_may_touch_their_checks() {
    let grouped = Rule::And(vec![Rule::Or(vec![role("a"), role("b")]), role("c")]);
    assert_eq!(parse("(role:a or role:b) and role:c"), grouped);
    assert_eq!(parse("( role:a or role:b ) and role:c"), grouped);
    assert_eq!(parse("((role:a or role:b)) and (role:c)"), grouped);
    assert_eq!(
        parse("not (role:a or role:b)"),
        Rule::Not(Box::new(Rule::Or(vec![role("a"), role("b")])))
    );
    // The parentheses of a substitution are not grouping.
    assert_eq!(
        parse("(is_admin:True or project_id:%(project_id)s)"),
        parse("is_admin:True or project_id:%(project_id)s")
    );
}

#[test]
fn whitespace_and_keyword_case_do_not_matter() {
    assert_eq!(
        parse("  role:a \t OR\n role:b   AND role:c  "),
        parse("role:a or role:b and role:c")
    );
    assert_eq!(parse("NOT role:a"), parse("not role:a"));
}

#[test]
fn syntax_errors_say_what_is_wrong() {
    let cases = [
        ("   ", "only whitespace"),
        (
            "role:a and",
            "expected a check, 'not' or '(' after 'and', but the rule ends",
        ),
        ("or role:a", "expected a check, 'not' or '(', found 'or'"),
        ("role:a role:b", "expected 'and' or 'or' before \"role:b\""),
        ("(role:a", "a '(' is never closed"),
        ("role:a)", "unbalanced ')'"),
        ("()", "expected a check, 'not' or '(' after '(', found ')'"),
        ("not", "after 'not', but the rule ends"),
        (
            "admin",
            "\"admin\" is not a check: expected <kind>:<value>, '@' or '!'",
        ),
        ("role:", "\"role:\" has no value after ':'"),
        ("is_admin:true", "is_admin takes True or False"),
        ("domain_id:d1", "unknown check kind \"domain_id\""),
        ("Role:admin", "unknown check kind \"Role\""),
        (
            "project_id:%(domain_id)s",
            "%(domain_id)s names no target attribute",
        ),
        (
            "project_id:%(project_id)",
            "must have the form %(<attribute>)s",
        ),
        (
            "project_id:50%",
            "a '%' must start %(project_id)s or %(user_id)s, or be doubled",
        ),
    ];
    for (text, expected) in cases {
        let message = error(text);
        assert!(
            message.contains(expected),
            "{text:?}: {message:?} should contain {expected:?}"
        );
    }
}

#[test]
fn absurd_nesting_is_refused_not_a_stack_overflow() {
    let deep = format!("{}role:a{}", "(".repeat(1000), ")".repeat(1000));
    assert!(error(&deep).contains("nested more than"));
    let nots = format!("{}role:a", "not ".repeat(1000));
    assert!(error(&nots).contains("nested more than"));
}

#[test]
fn roles_compare_case_insensitively() {
    let roles = vec!["Admin".to_owned(), "member".to_owned()];
    let s = subject(&roles, false);
    assert!(eval("role:admin", &s));
    assert!(eval("role:ADMIN", &s));
    assert!(eval("role:Member", &s));
    assert!(!eval("role:reader", &s));
    assert!(!eval("role:admi", &s));
}

#[test]
fn substitutions_take_the_targets_attributes() {
    let roles = vec![];
    let mut s = subject(&roles, false);
    assert!(eval("project_id:%(project_id)s", &s));
    assert!(eval("user_id:%(user_id)s", &s));
    assert!(eval("project_id:p1", &s));
    s.target_project_id = "p2";
    assert!(!eval("project_id:%(project_id)s", &s));
    assert!(eval("user_id:%(user_id)s", &s));
    // Substitution is exact text: no prefix matches.
    s.target_project_id = "p";
    assert!(!eval("project_id:%(project_id)s", &s));
    assert!(eval("project_id:%(project_id)s1", &s));
}

#[test]
fn boolean_operators_evaluate_as_written() {
    let roles = vec!["member".to_owned()];
    let s = subject(&roles, false);
    assert!(eval("@", &s));
    assert!(!eval("!", &s));
    assert!(eval("", &s));
    assert!(eval("is_admin:False", &s));
    assert!(!eval("is_admin:True", &s));
    assert!(eval("! or role:member", &s));
    assert!(!eval("@ and !", &s));
    assert!(eval("not !", &s));
    assert!(eval("role:x or role:member and @", &s));
    assert!(!eval("(role:x or role:member) and !", &s));
}

#[test]
fn references_are_resolved_through_the_lookup() {
    let admin = parse("role:admin");
    let rule = parse("rule:context_is_admin or rule:missing");
    assert_eq!(rule.references(), vec!["context_is_admin", "missing"]);
    let roles = vec!["admin".to_owned()];
    let lookup = |name: &str| (name == "context_is_admin").then_some(&admin);
    assert!(rule.eval(&subject(&roles, false), &lookup));
    assert!(!rule.eval(&subject(&[], false), &lookup));
}
