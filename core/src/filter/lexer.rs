//! Tokens of the pcap-filter language.
//!
//! Like libpcap's scanner, a *word* runs over letters, digits and `.-_` (so `tcp-syn`,
//! `1-1024` and `10.0.0.1` are single words) and over `:` only when the result is an IPv6 or
//! MAC address (so `ether[0:2]` still splits at the colon).

use super::error::{FilterError, FilterErrorKind};

/// A token kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tok<'a> {
    /// A word: keyword, number, address or name.
    Word(&'a str),
    /// `\word`: a protocol name that is not a keyword (`ip proto \tcp`).
    Escaped(&'a str),
    /// `(`
    LParen,
    /// `)`
    RParen,
    /// `[`
    LBrack,
    /// `]`
    RBrack,
    /// `:`
    Colon,
    /// `!`
    Bang,
    /// `&&`
    AndAnd,
    /// `||`
    OrOr,
    /// `=` or `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `+`
    Plus,
    /// `-`
    Minus,
    /// `*`
    Star,
    /// `/`
    Slash,
    /// `%`
    Percent,
    /// `&`
    Amp,
    /// `|`
    Pipe,
    /// `^`
    Caret,
    /// `<<`
    Shl,
    /// `>>`
    Shr,
    /// End of input.
    End,
}

/// A token and where it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Token<'a> {
    /// The kind.
    pub tok: Tok<'a>,
    /// Byte offset.
    pub pos: usize,
    /// Byte length.
    pub len: usize,
}

/// A restartable scanner over the expression.
#[derive(Clone, Copy, Debug)]
pub struct Lexer<'a> {
    src: &'a str,
    pos: usize,
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_')
}

impl<'a> Lexer<'a> {
    /// A lexer at the start of `src`.
    pub const fn new(src: &'a str) -> Lexer<'a> {
        Lexer { src, pos: 0 }
    }

    /// The current byte position (where the next token scan starts).
    pub fn pos(&self) -> usize {
        self.pos
    }

    /// The next token.
    pub fn next_token(&mut self) -> Result<Token<'a>, FilterError> {
        let bytes = self.src.as_bytes();
        while let Some(b) = bytes.get(self.pos) {
            if b.is_ascii_whitespace() {
                self.pos += 1;
            } else {
                break;
            }
        }
        let start = self.pos;
        let Some(&c) = bytes.get(start) else {
            return Ok(Token {
                tok: Tok::End,
                pos: start,
                len: 0,
            });
        };
        let next = bytes.get(start + 1).copied();
        let (tok, len) = match c {
            b'(' => (Tok::LParen, 1),
            b')' => (Tok::RParen, 1),
            b'[' => (Tok::LBrack, 1),
            b']' => (Tok::RBrack, 1),
            b'+' => (Tok::Plus, 1),
            b'-' => (Tok::Minus, 1),
            b'*' => (Tok::Star, 1),
            b'/' => (Tok::Slash, 1),
            b'%' => (Tok::Percent, 1),
            b'^' => (Tok::Caret, 1),
            b'&' if next == Some(b'&') => (Tok::AndAnd, 2),
            b'&' => (Tok::Amp, 1),
            b'|' if next == Some(b'|') => (Tok::OrOr, 2),
            b'|' => (Tok::Pipe, 1),
            b'=' if next == Some(b'=') => (Tok::Eq, 2),
            b'=' => (Tok::Eq, 1),
            b'!' if next == Some(b'=') => (Tok::Ne, 2),
            b'!' => (Tok::Bang, 1),
            b'<' if next == Some(b'=') => (Tok::Le, 2),
            b'<' if next == Some(b'<') => (Tok::Shl, 2),
            b'<' => (Tok::Lt, 1),
            b'>' if next == Some(b'=') => (Tok::Ge, 2),
            b'>' if next == Some(b'>') => (Tok::Shr, 2),
            b'>' => (Tok::Gt, 1),
            b'\\' => {
                let n = self.word_len(start + 1);
                if n == 0 {
                    return Err(FilterError::new(start, 1, FilterErrorKind::BadChar));
                }
                let w = &self.src[start + 1..start + 1 + n];
                (Tok::Escaped(w), n + 1)
            }
            b':' if next == Some(b':') => {
                let n = self.word_len(start);
                if n == 0 {
                    (Tok::Colon, 1)
                } else {
                    (Tok::Word(&self.src[start..start + n]), n)
                }
            }
            b':' => (Tok::Colon, 1),
            c if c.is_ascii_alphanumeric() || c == b'_' => {
                let n = self.word_len(start);
                (Tok::Word(&self.src[start..start + n]), n)
            }
            _ => {
                let n = self.src[start..].chars().next().map_or(1, char::len_utf8);
                return Err(FilterError::new(start, n, FilterErrorKind::BadChar));
            }
        };
        self.pos = start + len;
        Ok(Token {
            tok,
            pos: start,
            len,
        })
    }

    /// Length of the word at `start`: over `[A-Za-z0-9._-]`, and over `:` only when the
    /// whole run is an IPv6 or MAC address.
    fn word_len(&self, start: usize) -> usize {
        let bytes = self.src.as_bytes();
        let mut end = start;
        while bytes
            .get(end)
            .is_some_and(|&b| is_word_byte(b) || b == b':')
        {
            end += 1;
        }
        let full = &self.src[start..end];
        if full.contains(':')
            && (super::parser::parse_v6(full).is_some() || super::parser::parse_mac(full).is_some())
        {
            return end - start;
        }
        let mut end = start;
        while bytes.get(end).is_some_and(|&b| is_word_byte(b)) {
            end += 1;
        }
        end - start
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    fn toks(s: &str) -> Vec<Tok<'_>> {
        let mut l = Lexer::new(s);
        let mut v = Vec::new();
        loop {
            let t = l.next_token().unwrap();
            if t.tok == Tok::End {
                return v;
            }
            v.push(t.tok);
        }
    }

    #[test]
    fn words_and_operators() {
        assert_eq!(
            toks("tcp[13:1]&tcp-syn!=0"),
            [
                Tok::Word("tcp"),
                Tok::LBrack,
                Tok::Word("13"),
                Tok::Colon,
                Tok::Word("1"),
                Tok::RBrack,
                Tok::Amp,
                Tok::Word("tcp-syn"),
                Tok::Ne,
                Tok::Word("0")
            ]
        );
        assert_eq!(toks("host ::1"), [Tok::Word("host"), Tok::Word("::1")]);
        assert_eq!(
            toks("ether host 0:1:2:3:4:5 && !(x||y)"),
            [
                Tok::Word("ether"),
                Tok::Word("host"),
                Tok::Word("0:1:2:3:4:5"),
                Tok::AndAnd,
                Tok::Bang,
                Tok::LParen,
                Tok::Word("x"),
                Tok::OrOr,
                Tok::Word("y"),
                Tok::RParen
            ]
        );
        assert_eq!(
            toks("a<<b>>=c<=d==e\\tcp"),
            [
                Tok::Word("a"),
                Tok::Shl,
                Tok::Word("b"),
                Tok::Shr,
                Tok::Eq,
                Tok::Word("c"),
                Tok::Le,
                Tok::Word("d"),
                Tok::Eq,
                Tok::Word("e"),
                Tok::Escaped("tcp")
            ]
        );
    }

    #[test]
    fn bad_character_has_position() {
        let mut l = Lexer::new("port 80 $");
        l.next_token().unwrap();
        l.next_token().unwrap();
        let e = l.next_token().unwrap_err();
        assert_eq!((e.pos, e.kind), (8, FilterErrorKind::BadChar));
    }
}
