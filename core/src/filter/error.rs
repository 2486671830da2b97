//! Compile errors (with their byte position in the expression) and verifier errors.

use core::fmt;

/// Why an expression was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FilterErrorKind {
    /// A token the grammar does not allow here; names what was expected.
    Syntax(&'static str),
    /// The expression ended where more was needed.
    UnexpectedEnd,
    /// An empty expression (callers treat "no filter" themselves).
    Empty,
    /// A character that starts no token.
    BadChar,
    /// A host, port or protocol name: names are not resolved.
    Name,
    /// A number out of range or malformed.
    BadNumber,
    /// A malformed IPv4, IPv6 or MAC address.
    BadAddress,
    /// `net A/len` or `net A mask M` with host bits set.
    NonNetworkBits,
    /// A construct pktstat does not implement (names it).
    Unsupported(&'static str),
    /// A qualifier that does not apply to the primitive (names the combination).
    Qualifier(&'static str),
    /// A primitive the link type cannot express (names it).
    LinkType(&'static str),
    /// Constant division or modulo by zero.
    DivisionByZero,
    /// The expression can never match (libpcap refuses these too).
    RejectsAll,
    /// Too many nodes, scratch slots, or instructions, or a jump longer than 255.
    TooComplex,
}

/// A refused expression: what went wrong and where (`pos`, `len` in bytes of the expression).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FilterError {
    /// Byte offset of the offending construct.
    pub pos: usize,
    /// Its length in bytes (at least 1 when the expression is not empty there).
    pub len: usize,
    /// What is wrong.
    pub kind: FilterErrorKind,
}

impl FilterError {
    pub(crate) const fn new(pos: usize, len: usize, kind: FilterErrorKind) -> FilterError {
        FilterError { pos, len, kind }
    }

    /// Renders `expr` with a caret line under the offending construct (two lines, no newline
    /// at the end), for an error message.
    pub fn caret<'a>(&'a self, expr: &'a str) -> Caret<'a> {
        Caret { err: self, expr }
    }
}

impl fmt::Display for FilterErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FilterErrorKind::Syntax(what) => write!(f, "syntax error: expected {what}"),
            FilterErrorKind::UnexpectedEnd => f.write_str("unexpected end of expression"),
            FilterErrorKind::Empty => f.write_str("empty expression"),
            FilterErrorKind::BadChar => f.write_str("unexpected character"),
            FilterErrorKind::Name => {
                f.write_str("names are not resolved: use a numeric address, port or protocol")
            }
            FilterErrorKind::BadNumber => f.write_str("invalid number"),
            FilterErrorKind::BadAddress => f.write_str("invalid address"),
            FilterErrorKind::NonNetworkBits => f.write_str("non-network bits set in network"),
            FilterErrorKind::Unsupported(what) => write!(f, "'{what}' is not supported"),
            FilterErrorKind::Qualifier(what) => write!(f, "illegal qualifier: {what}"),
            FilterErrorKind::LinkType(what) => {
                write!(f, "'{what}' is not supported on this link type")
            }
            FilterErrorKind::DivisionByZero => f.write_str("division by zero"),
            FilterErrorKind::RejectsAll => f.write_str("expression rejects all packets"),
            FilterErrorKind::TooComplex => f.write_str("expression too complex"),
        }
    }
}

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "filter: {} at byte {}", self.kind, self.pos)
    }
}

/// `expr` and a caret line under the error position; see [`FilterError::caret`].
pub struct Caret<'a> {
    err: &'a FilterError,
    expr: &'a str,
}

impl fmt::Display for Caret<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.expr)?;
        // Count characters, not bytes, so the caret lines up under multi-byte text.
        let pos = self.err.pos.min(self.expr.len());
        let col = self.expr.get(..pos).map_or(pos, |s| s.chars().count());
        for _ in 0..col {
            f.write_str(" ")?;
        }
        let end = pos.saturating_add(self.err.len).min(self.expr.len());
        let n = self
            .expr
            .get(pos..end)
            .map_or(self.err.len, |s| s.chars().count())
            .max(1);
        for _ in 0..n {
            f.write_str("^")?;
        }
        Ok(())
    }
}

/// Why the verifier refused a program.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckError {
    /// No instructions, or more than [`super::MAX_INSNS`].
    BadLength,
    /// An opcode the kernel does not know (at this index).
    BadOpcode(usize),
    /// A jump leaving the program (at this index).
    JumpOutOfRange(usize),
    /// A scratch-memory index ≥ 16 (at this index).
    BadMemIndex(usize),
    /// Division or modulo by the constant 0 (at this index).
    DivisionByZero(usize),
    /// The last instruction is not a return.
    NoReturn,
}

impl fmt::Display for CheckError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CheckError::BadLength => f.write_str("program length out of range"),
            CheckError::BadOpcode(i) => write!(f, "invalid opcode at instruction {i}"),
            CheckError::JumpOutOfRange(i) => write!(f, "jump out of range at instruction {i}"),
            CheckError::BadMemIndex(i) => write!(f, "bad scratch index at instruction {i}"),
            CheckError::DivisionByZero(i) => write!(f, "division by zero at instruction {i}"),
            CheckError::NoReturn => f.write_str("program does not end with a return"),
        }
    }
}
