//! `-f EXPR` and `--dump-filter`: the project's own pcap-filter compiler
//! (`pktstat_core::filter`), so the static binary needs no libpcap (SPEC §7).
//!
//! Offline, a file's packets are filtered by a program compiled for their link type; a
//! pcapng file may carry several, so programs are compiled on first use, one per link type.
//! Live, one program compiled for the `AF_PACKET` socket is attached by `live::run`.

use pktstat_core::filter::{self, FilterError, FilterErrorKind, Program, Target};
use pktstat_core::link::LinkType;

use crate::error::AppError;

/// What offline programs return for an accepted packet (tcpdump's default snap length; only
/// "not zero" matters offline, and `--dump-filter` then prints what `tcpdump -d` prints).
pub const OFFLINE_SNAPLEN: u32 = 262_144;

/// Compiles `expr` for `target` into a boxed program (4096 instructions do not belong on
/// the stack), or the error for `-f`.
pub fn compile(expr: &str, target: Target, snaplen: u32) -> Result<Box<Program>, AppError> {
    let mut prog = Box::new(Program::new());
    filter::compile(expr, target, snaplen, &mut prog).map_err(|e| bad_filter(expr, &e))?;
    Ok(prog)
}

/// The error for a filter that does not compile: the reason and the byte position, then the
/// expression with a caret under the fault. Exit 2 when the expression itself is wrong; 1 when
/// it is fine but cannot apply here (this link type, too large).
pub fn bad_filter(expr: &str, e: &FilterError) -> AppError {
    let caret = e.caret(expr).to_string();
    let mut msg = format!("-f: {e}");
    for line in caret.lines() {
        msg.push_str("\n    ");
        msg.push_str(line);
    }
    match e.kind {
        FilterErrorKind::LinkType(_) | FilterErrorKind::TooComplex => AppError::runtime(msg),
        _ => AppError::usage(msg),
    }
}

/// Offline filtering: one program per link type, compiled when first needed.
pub struct LinkFilters {
    expr: String,
    progs: Vec<(LinkType, Box<Program>)>,
}

impl LinkFilters {
    /// Filters for `expr`; None filters nothing. The expression's syntax is checked here,
    /// before the file is read, so a typo is a usage error whatever the file holds.
    pub fn new(expr: Option<&str>) -> Result<Option<LinkFilters>, AppError> {
        let Some(e) = expr else { return Ok(None) };
        let mut ast = Box::new(filter::ast::Ast::new());
        filter::parser::parse(e, &mut ast).map_err(|err| bad_filter(e, &err))?;
        Ok(Some(LinkFilters {
            expr: e.to_string(),
            progs: Vec::new(),
        }))
    }

    /// The program for `link`, compiling it on first use.
    pub fn program(&mut self, link: LinkType) -> Result<&Program, AppError> {
        let i = match self.progs.iter().position(|(l, _)| *l == link) {
            Some(i) => i,
            None => {
                let p = compile(&self.expr, Target::Link(link), OFFLINE_SNAPLEN)?;
                self.progs.push((link, p));
                self.progs.len() - 1
            }
        };
        Ok(&self.progs[i].1)
    }

    /// Whether the filter accepts `data` (of `wire_len` bytes on the wire) on `link`.
    pub fn accepts(
        &mut self,
        link: LinkType,
        data: &[u8],
        wire_len: u32,
    ) -> Result<bool, AppError> {
        let p = self.program(link)?;
        Ok(filter::run(p.insns(), data, wire_len) != 0)
    }
}

/// `--dump-filter` text for a program (`tcpdump -d` format).
pub fn dump(prog: &Program) -> String {
    filter::Dump(prog.insns()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_filter_points_at_the_error() {
        let e = compile("host 10.0.0.1 port 80", Target::LinuxSocket, 100).unwrap_err();
        assert_eq!(e.code, 2);
        assert_eq!(
            e.message,
            "-f: filter: syntax error: expected 'and', 'or' or end of expression at byte 14\n    \
             host 10.0.0.1 port 80\n                  ^^^^"
        );
        let e = compile("vlan", Target::Link(LinkType::Raw), 100).unwrap_err();
        assert_eq!(e.code, 1, "{}", e.message);
    }

    #[test]
    fn one_program_per_link_type() {
        let mut f = LinkFilters::new(Some("ip")).unwrap().unwrap();
        let mut eth = vec![0u8; 34];
        eth[12] = 0x08;
        assert!(f.accepts(LinkType::Ethernet, &eth, 34).unwrap());
        eth[12] = 0x86;
        assert!(!f.accepts(LinkType::Ethernet, &eth, 34).unwrap());
        let raw = [0x45u8; 20];
        assert!(f.accepts(LinkType::Raw, &raw, 20).unwrap());
        assert_eq!(f.progs.len(), 2);
        assert!(LinkFilters::new(None).unwrap().is_none());
        assert_eq!(
            LinkFilters::new(Some("tcp and")).err().map(|e| e.code),
            Some(2)
        );
    }
}
