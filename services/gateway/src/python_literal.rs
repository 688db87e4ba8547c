//! The Python literal dicts that python-magnumclient 2.x/4.x send as JSON-patch values for
//! `/labels` (`"{'k8s_version': 'v1.2', 'x': '1'}"`, spec §1.8): the subset of Python's
//! `ast.literal_eval` that `str(dict)` produces, i.e. a flat dict whose keys are strings
//! and whose values are strings, numbers, `True`, `False` or `None`. Python 2 clients
//! write `u'...'` strings, so string prefixes are accepted.

use std::fmt;

use serde_json::{Map, Number, Value};

/// Why a text is not a Python literal dict of scalars.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// Character offset (0-based) where parsing stopped.
    pub position: usize,
    pub reason: &'static str,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at character {}", self.reason, self.position)
    }
}

impl std::error::Error for ParseError {}

/// Parses `text` as a Python dict literal into a JSON object. Later duplicate keys win,
/// as in Python.
pub fn parse_dict(text: &str) -> Result<Map<String, Value>, ParseError> {
    let mut parser = Parser {
        chars: text.chars().collect(),
        position: 0,
    };
    let dict = parser.dict()?;
    parser.skip_whitespace();
    if parser.peek().is_some() {
        return Err(parser.error("unexpected text after the dict"));
    }
    Ok(dict)
}

struct Parser {
    chars: Vec<char>,
    position: usize,
}

impl Parser {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.position).copied()
    }

    fn peek_at(&self, offset: usize) -> Option<char> {
        self.chars.get(self.position + offset).copied()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.position += 1;
        Some(c)
    }

    fn error(&self, reason: &'static str) -> ParseError {
        ParseError {
            position: self.position,
            reason,
        }
    }

    fn skip_whitespace(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.position += 1;
        }
    }

    fn require(&mut self, wanted: char, reason: &'static str) -> Result<(), ParseError> {
        self.skip_whitespace();
        if self.peek() == Some(wanted) {
            self.position += 1;
            Ok(())
        } else {
            Err(self.error(reason))
        }
    }

    fn dict(&mut self) -> Result<Map<String, Value>, ParseError> {
        self.require('{', "expected '{'")?;
        let mut dict = Map::new();
        loop {
            self.skip_whitespace();
            if self.peek() == Some('}') {
                self.position += 1;
                return Ok(dict);
            }
            let key = match self.value()? {
                Value::String(key) => key,
                _ => return Err(self.error("dict keys must be strings")),
            };
            self.require(':', "expected ':'")?;
            let value = self.value()?;
            dict.insert(key, value);
            self.skip_whitespace();
            match self.bump() {
                Some(',') => {}
                Some('}') => return Ok(dict),
                _ => return Err(self.error("expected ',' or '}'")),
            }
        }
    }

    /// A scalar: string(s), number, `True`, `False` or `None`.
    fn value(&mut self) -> Result<Value, ParseError> {
        self.skip_whitespace();
        let Some(c) = self.peek() else {
            return Err(self.error("unexpected end of text"));
        };
        if self.at_string_start() {
            return self.strings();
        }
        if c.is_ascii_digit() || c == '.' || c == '-' || c == '+' {
            return self.number();
        }
        if c.is_alphabetic() || c == '_' {
            let start = self.position;
            while self.peek().is_some_and(|c| c.is_alphanumeric() || c == '_') {
                self.position += 1;
            }
            let word: String = self.chars[start..self.position].iter().collect();
            return match word.as_str() {
                "True" => Ok(Value::Bool(true)),
                "False" => Ok(Value::Bool(false)),
                "None" => Ok(Value::Null),
                _ => Err(ParseError {
                    position: start,
                    reason: "only strings, numbers, True, False and None are allowed",
                }),
            };
        }
        Err(self.error("only strings, numbers, True, False and None are allowed"))
    }

    /// Is the cursor at a string: a quote, or a `u`/`r` prefix followed by a quote?
    fn at_string_start(&self) -> bool {
        match self.peek() {
            Some('\'' | '"') => true,
            Some('u' | 'U' | 'r' | 'R') => matches!(self.peek_at(1), Some('\'' | '"')),
            _ => false,
        }
    }

    /// One string, or several adjacent ones (Python concatenates `'a' 'b'`).
    fn strings(&mut self) -> Result<Value, ParseError> {
        let mut text = self.string()?;
        loop {
            let saved = self.position;
            self.skip_whitespace();
            if self.at_string_start() {
                text.push_str(&self.string()?);
            } else {
                self.position = saved;
                return Ok(Value::String(text));
            }
        }
    }

    fn string(&mut self) -> Result<String, ParseError> {
        let raw = match self.peek() {
            Some('r' | 'R') => {
                self.position += 1;
                true
            }
            Some('u' | 'U') => {
                self.position += 1;
                false
            }
            _ => false,
        };
        let Some(quote) = self.bump() else {
            return Err(self.error("unexpected end of text"));
        };
        let mut text = String::new();
        loop {
            match self.bump() {
                None => return Err(self.error("unterminated string")),
                Some(c) if c == quote => return Ok(text),
                Some('\n') => return Err(self.error("unterminated string")),
                Some('\\') if raw => {
                    // A raw string keeps the backslash; it still cannot end the string.
                    text.push('\\');
                    match self.bump() {
                        Some(c) => text.push(c),
                        None => return Err(self.error("unterminated string")),
                    }
                }
                Some('\\') => self.escape(&mut text)?,
                Some(c) => text.push(c),
            }
        }
    }

    fn escape(&mut self, text: &mut String) -> Result<(), ParseError> {
        let Some(c) = self.bump() else {
            return Err(self.error("unterminated string"));
        };
        match c {
            '\n' => {}
            '\\' | '\'' | '"' => text.push(c),
            'a' => text.push('\u{7}'),
            'b' => text.push('\u{8}'),
            'f' => text.push('\u{c}'),
            'n' => text.push('\n'),
            'r' => text.push('\r'),
            't' => text.push('\t'),
            'v' => text.push('\u{b}'),
            '0'..='7' => {
                let mut code = c.to_digit(8).unwrap_or(0);
                for _ in 0..2 {
                    match self.peek().and_then(|d| d.to_digit(8)) {
                        Some(digit) => {
                            code = code * 8 + digit;
                            self.position += 1;
                        }
                        None => break,
                    }
                }
                text.push(self.code_point(code)?);
            }
            'x' => self.hex_escape(text, 2)?,
            'u' => self.hex_escape(text, 4)?,
            'U' => self.hex_escape(text, 8)?,
            // Python keeps unknown escapes as written.
            other => {
                text.push('\\');
                text.push(other);
            }
        }
        Ok(())
    }

    fn hex_escape(&mut self, text: &mut String, digits: usize) -> Result<(), ParseError> {
        let mut code = 0u32;
        for _ in 0..digits {
            let digit = self
                .bump()
                .and_then(|d| d.to_digit(16))
                .ok_or_else(|| self.error("truncated \\x, \\u or \\U escape"))?;
            code = code * 16 + digit;
        }
        text.push(self.code_point(code)?);
        Ok(())
    }

    fn code_point(&self, code: u32) -> Result<char, ParseError> {
        char::from_u32(code).ok_or_else(|| self.error("escape is not a valid character"))
    }

    /// An int or float, optionally signed (`literal_eval` allows unary `+`/`-`).
    fn number(&mut self) -> Result<Value, ParseError> {
        let start = self.position;
        let mut negative = false;
        while let Some(sign @ ('-' | '+')) = self.peek() {
            negative ^= sign == '-';
            self.position += 1;
            self.skip_whitespace();
        }
        let body_start = self.position;
        let hex = matches!(self.chars.get(body_start + 1), Some('x' | 'X'));
        loop {
            match self.peek() {
                Some(c) if c.is_ascii_alphanumeric() || matches!(c, '.' | '_') => {
                    self.position += 1;
                }
                // The sign of an exponent (`1e-3`), which hex digits never have.
                Some('+' | '-')
                    if !hex
                        && self.position > body_start
                        && matches!(self.chars.get(self.position - 1), Some('e' | 'E')) =>
                {
                    self.position += 1;
                }
                _ => break,
            }
        }
        let body: String = self.chars[body_start..self.position]
            .iter()
            .filter(|c| **c != '_')
            .collect();
        let invalid = ParseError {
            position: start,
            reason: "invalid number",
        };
        if body.is_empty() {
            return Err(invalid);
        }
        let radix = match body.get(..2).map(str::to_ascii_lowercase).as_deref() {
            Some("0x") => Some(16),
            Some("0o") => Some(8),
            Some("0b") => Some(2),
            _ => None,
        };
        if let Some(radix) = radix {
            let magnitude = i64::from_str_radix(&body[2..], radix).map_err(|_| invalid.clone())?;
            return Ok(Value::from(if negative { -magnitude } else { magnitude }));
        }
        if body.bytes().all(|b| b.is_ascii_digit()) {
            let magnitude: i64 = body.parse().map_err(|_| invalid.clone())?;
            return Ok(Value::from(if negative { -magnitude } else { magnitude }));
        }
        let is_float_text = body
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'));
        let float: f64 = is_float_text
            .then(|| body.parse().ok())
            .flatten()
            .ok_or(invalid.clone())?;
        Number::from_f64(if negative { -float } else { float })
            .map(Value::Number)
            .ok_or(invalid)
    }
}

#[cfg(test)]
#[path = "python_literal_test.rs"]
mod tests;
