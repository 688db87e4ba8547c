//! The rule language: the part of oslo.policy's text syntax that Magnum's defaults and
//! operators' policy files use, parsed once at load time and evaluated per request.
//!
//! ```text
//! rule    := or
//! or      := and ("or" and)*
//! and     := not ("and" not)*
//! not     := "not" not | "(" or ")" | check
//! check   := "@" | "!" | role:<name> | rule:<name> | is_admin:True | is_admin:False
//!          | user_id:<value> | project_id:<value>
//! value   := literal text, with %(project_id)s / %(user_id)s taken from the target
//! ```
//!
//! As in oslo, tokens are separated by whitespace, parentheses may stick to either end
//! of a token, the keywords are case-insensitive and `""` (the empty rule) always passes.
//! Unlike oslo, anything oslo would silently turn into "never" (an unknown check kind,
//! an unknown credential or target attribute, a syntax error) is a load-time error, so a
//! typo in an operator's file stops the service instead of locking everyone out.

use std::borrow::Cow;
use std::fmt;

/// Nesting deeper than this is refused: no real rule comes close, and it keeps the
/// recursive parser and evaluator off the end of the stack.
const MAX_DEPTH: usize = 32;

/// A parsed rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Rule {
    /// `@` or `""`.
    Always,
    /// `!`.
    Never,
    /// `role:<name>`: the caller has the role (compared case-insensitively, as oslo).
    Role(Template),
    /// `rule:<name>`: another rule of the policy.
    Ref(String),
    /// `is_admin:True` / `is_admin:False`: the caller's admin flag.
    IsAdmin(bool),
    /// `<attr>:<value>`: a credential attribute equals the (substituted) value.
    Equals(Attr, Template),
    Not(Box<Rule>),
    And(Vec<Rule>),
    Or(Vec<Rule>),
}

/// An attribute of the caller (left of the `:`) or of the target (inside `%(...)s`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Attr {
    ProjectId,
    UserId,
}

impl Attr {
    fn parse(name: &str) -> Option<Self> {
        match name {
            "project_id" => Some(Self::ProjectId),
            "user_id" => Some(Self::UserId),
            _ => None,
        }
    }
}

/// A check's value: literal text and `%(attr)s` substitutions from the target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Template(Vec<Piece>);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    Target(Attr),
}

/// The values a rule is evaluated against.
pub(crate) struct Subject<'a> {
    pub user_id: &'a str,
    pub project_id: &'a str,
    pub roles: &'a [String],
    pub is_admin: bool,
    pub target_project_id: &'a str,
    pub target_user_id: &'a str,
}

impl Subject<'_> {
    fn credential(&self, attr: Attr) -> &str {
        match attr {
            Attr::ProjectId => self.project_id,
            Attr::UserId => self.user_id,
        }
    }

    fn target(&self, attr: Attr) -> &str {
        match attr {
            Attr::ProjectId => self.target_project_id,
            Attr::UserId => self.target_user_id,
        }
    }
}

impl Template {
    fn parse(text: &str) -> Result<Self, ParseError> {
        let mut pieces = Vec::new();
        let mut literal = String::new();
        let mut rest = text;
        while let Some(at) = rest.find('%') {
            literal.push_str(&rest[..at]);
            rest = &rest[at..];
            if let Some(after) = rest.strip_prefix("%%") {
                literal.push('%');
                rest = after;
                continue;
            }
            let Some(inner) = rest.strip_prefix("%(") else {
                return Err(ParseError::new(format!(
                    "\"{text}\": a '%' must start %(project_id)s or %(user_id)s, or be doubled"
                )));
            };
            let Some(close) = inner.find(")s") else {
                return Err(ParseError::new(format!(
                    "\"{text}\": a substitution must have the form %(<attribute>)s"
                )));
            };
            let name = &inner[..close];
            let attr = Attr::parse(name).ok_or_else(|| {
                ParseError::new(format!(
                    "\"{text}\": %({name})s names no target attribute; \
                     expected %(project_id)s or %(user_id)s"
                ))
            })?;
            if !literal.is_empty() {
                pieces.push(Piece::Text(std::mem::take(&mut literal)));
            }
            pieces.push(Piece::Target(attr));
            rest = &inner[close + 2..];
        }
        literal.push_str(rest);
        if !literal.is_empty() {
            pieces.push(Piece::Text(literal));
        }
        Ok(Self(pieces))
    }

    /// The value with the target's attributes substituted.
    fn render<'s>(&'s self, subject: &'s Subject<'_>) -> Cow<'s, str> {
        let piece = |piece: &'s Piece| match piece {
            Piece::Text(text) => text.as_str(),
            Piece::Target(attr) => subject.target(*attr),
        };
        match self.0.as_slice() {
            [] => Cow::Borrowed(""),
            [one] => Cow::Borrowed(piece(one)),
            many => Cow::Owned(many.iter().map(piece).collect()),
        }
    }
}

/// Unicode case-insensitive equality (Python's `str.lower()` on both sides, as oslo).
fn eq_fold_case(a: &str, b: &str) -> bool {
    a.chars()
        .flat_map(char::to_lowercase)
        .eq(b.chars().flat_map(char::to_lowercase))
}

impl Rule {
    /// Parses a rule's text.
    pub(crate) fn parse(text: &str) -> Result<Self, ParseError> {
        if text.is_empty() {
            return Ok(Self::Always);
        }
        let tokens = tokenize(text);
        if tokens.is_empty() {
            return Err(ParseError::new(
                "the rule is only whitespace; write \"\" or \"@\" to allow everyone",
            ));
        }
        let mut parser = Parser { tokens, pos: 0 };
        let rule = parser.or(0)?;
        match parser.peek() {
            None => Ok(rule),
            Some(Token::Close) => Err(ParseError::new("unbalanced ')'")),
            Some(token) => Err(ParseError::new(format!(
                "expected 'and' or 'or' before {token}"
            ))),
        }
    }

    /// Every `rule:<name>` this rule refers to directly.
    pub(crate) fn references(&self) -> Vec<&str> {
        let mut names = Vec::new();
        self.collect_references(&mut names);
        names
    }

    fn collect_references<'a>(&'a self, names: &mut Vec<&'a str>) {
        match self {
            Self::Ref(name) => names.push(name),
            Self::Not(inner) => inner.collect_references(names),
            Self::And(rules) | Self::Or(rules) => {
                for rule in rules {
                    rule.collect_references(names);
                }
            }
            Self::Always | Self::Never | Self::Role(_) | Self::IsAdmin(_) | Self::Equals(..) => {}
        }
    }

    /// Evaluates the rule; `lookup` resolves `rule:<name>` (cycles and unknown names are
    /// refused at load time; an unresolved name here fails closed).
    pub(crate) fn eval<'r>(
        &self,
        subject: &Subject<'_>,
        lookup: &dyn Fn(&str) -> Option<&'r Rule>,
    ) -> bool {
        match self {
            Self::Always => true,
            Self::Never => false,
            Self::Role(name) => {
                let name = name.render(subject);
                subject.roles.iter().any(|role| eq_fold_case(role, &name))
            }
            Self::Ref(name) => lookup(name).is_some_and(|rule| rule.eval(subject, lookup)),
            Self::IsAdmin(wanted) => subject.is_admin == *wanted,
            Self::Equals(attr, value) => subject.credential(*attr) == value.render(subject),
            Self::Not(inner) => !inner.eval(subject, lookup),
            Self::And(rules) => rules.iter().all(|rule| rule.eval(subject, lookup)),
            Self::Or(rules) => rules.iter().any(|rule| rule.eval(subject, lookup)),
        }
    }
}

/// Why a rule's text is not a rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ParseError(String);

impl ParseError {
    fn new(reason: impl Into<String>) -> Self {
        Self(reason.into())
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token<'a> {
    Open,
    Close,
    And,
    Or,
    Not,
    Check(&'a str),
}

impl fmt::Display for Token<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Open => f.write_str("'('"),
            Self::Close => f.write_str("')'"),
            Self::And => f.write_str("'and'"),
            Self::Or => f.write_str("'or'"),
            Self::Not => f.write_str("'not'"),
            Self::Check(text) => write!(f, "\"{text}\""),
        }
    }
}

/// oslo's tokenizer: split on whitespace, then peel parentheses off both ends of each
/// piece (so `%(project_id)s` keeps its inner parentheses).
fn tokenize(text: &str) -> Vec<Token<'_>> {
    let mut tokens = Vec::new();
    for mut word in text.split_whitespace() {
        while let Some(rest) = word.strip_prefix('(') {
            tokens.push(Token::Open);
            word = rest;
        }
        let mut closes = 0;
        while let Some(rest) = word.strip_suffix(')') {
            // `%(project_id)s)` ends in `s)`, never in `)s`; only a bare `)` is peeled.
            closes += 1;
            word = rest;
        }
        if !word.is_empty() {
            tokens.push(match word.to_ascii_lowercase().as_str() {
                "and" => Token::And,
                "or" => Token::Or,
                "not" => Token::Not,
                _ => Token::Check(word),
            });
        }
        tokens.extend(std::iter::repeat_n(Token::Close, closes));
    }
    tokens
}

struct Parser<'a> {
    tokens: Vec<Token<'a>>,
    pos: usize,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<Token<'a>> {
        self.tokens.get(self.pos).copied()
    }

    fn next(&mut self) -> Option<Token<'a>> {
        let token = self.peek();
        self.pos += 1;
        token
    }

    fn or(&mut self, depth: usize) -> Result<Rule, ParseError> {
        let mut terms = vec![self.and(depth)?];
        while self.peek() == Some(Token::Or) {
            self.pos += 1;
            terms.push(self.and(depth)?);
        }
        Ok(if terms.len() == 1 {
            terms.swap_remove(0)
        } else {
            Rule::Or(terms)
        })
    }

    fn and(&mut self, depth: usize) -> Result<Rule, ParseError> {
        let mut terms = vec![self.unary(depth)?];
        while self.peek() == Some(Token::And) {
            self.pos += 1;
            terms.push(self.unary(depth)?);
        }
        Ok(if terms.len() == 1 {
            terms.swap_remove(0)
        } else {
            Rule::And(terms)
        })
    }

    fn unary(&mut self, depth: usize) -> Result<Rule, ParseError> {
        if depth > MAX_DEPTH {
            return Err(ParseError::new(format!(
                "nested more than {MAX_DEPTH} levels deep"
            )));
        }
        let after = match self.pos.checked_sub(1).and_then(|i| self.tokens.get(i)) {
            Some(token) => format!(" after {token}"),
            None => String::new(),
        };
        match self.next() {
            Some(Token::Not) => Ok(Rule::Not(Box::new(self.unary(depth + 1)?))),
            Some(Token::Open) => {
                let inner = self.or(depth + 1)?;
                match self.next() {
                    Some(Token::Close) => Ok(inner),
                    Some(token) => Err(ParseError::new(format!(
                        "expected 'and', 'or' or ')' before {token}"
                    ))),
                    None => Err(ParseError::new("a '(' is never closed")),
                }
            }
            Some(Token::Check(text)) => check(text),
            Some(token) => Err(ParseError::new(format!(
                "expected a check, 'not' or '('{after}, found {token}"
            ))),
            None => Err(ParseError::new(format!(
                "expected a check, 'not' or '('{after}, but the rule ends"
            ))),
        }
    }
}

/// One check: `@`, `!` or `<kind>:<value>`.
fn check(text: &str) -> Result<Rule, ParseError> {
    match text {
        "@" => return Ok(Rule::Always),
        "!" => return Ok(Rule::Never),
        _ => {}
    }
    let Some((kind, value)) = text.split_once(':') else {
        return Err(ParseError::new(format!(
            "\"{text}\" is not a check: expected <kind>:<value>, '@' or '!'"
        )));
    };
    if value.is_empty() {
        return Err(ParseError::new(format!(
            "\"{text}\" has no value after ':'"
        )));
    }
    match kind {
        "role" => Ok(Rule::Role(Template::parse(value)?)),
        "rule" => Ok(Rule::Ref(value.to_owned())),
        "is_admin" => match value {
            "True" => Ok(Rule::IsAdmin(true)),
            "False" => Ok(Rule::IsAdmin(false)),
            // oslo compares with Python's str(True), so `is_admin:true` would never match.
            _ => Err(ParseError::new(format!(
                "\"{text}\": is_admin takes True or False"
            ))),
        },
        _ => match Attr::parse(kind) {
            Some(attr) => Ok(Rule::Equals(attr, Template::parse(value)?)),
            None => Err(ParseError::new(format!(
                "\"{text}\": unknown check kind \"{kind}\"; expected role, rule, is_admin, \
                 user_id or project_id"
            ))),
        },
    }
}

#[cfg(test)]
#[path = "rule_test.rs"]
mod tests;
