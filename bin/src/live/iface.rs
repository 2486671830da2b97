//! Network interfaces by name and index, read from `/sys/class/net` (no system call needs
//! `unsafe` here): resolving `-i NAME`, listing the interfaces an error message offers, and
//! naming the interfaces that flows carry under `-i any`.
#![deny(unsafe_code)]

use std::cell::RefCell;
use std::fs;
use std::path::Path;

const SYS_NET: &str = "/sys/class/net";
/// `IFF_UP`.
const IFF_UP: u32 = 0x1;

/// What `/sys` says about one interface.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Iface {
    /// Name.
    pub name: String,
    /// Index.
    pub index: u32,
    /// Administratively up (`IFF_UP`).
    pub up: bool,
}

fn read_num(path: &Path) -> Option<u32> {
    let s = fs::read_to_string(path).ok()?;
    let s = s.trim();
    match s.strip_prefix("0x") {
        Some(hex) => u32::from_str_radix(hex, 16).ok(),
        None => s.parse().ok(),
    }
}

/// Looks up one interface by name; `None` when it does not exist.
pub fn lookup(name: &str) -> Option<Iface> {
    if name.is_empty() || name.contains('/') || name == "." || name == ".." {
        return None;
    }
    let dir = Path::new(SYS_NET).join(name);
    let index = read_num(&dir.join("ifindex"))?;
    let flags = read_num(&dir.join("flags")).unwrap_or(0);
    Some(Iface {
        name: name.to_owned(),
        index,
        up: flags & IFF_UP != 0,
    })
}

/// Every interface, by index.
pub fn list() -> Vec<Iface> {
    let mut v: Vec<Iface> = fs::read_dir(SYS_NET)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .filter_map(|e| e.file_name().into_string().ok())
                .filter_map(|n| lookup(&n))
                .collect()
        })
        .unwrap_or_default();
    v.sort_by_key(|i| i.index);
    v
}

/// "lo, eth0, wlan0" (or a note that none could be read).
pub fn list_names() -> String {
    let names: Vec<String> = list().into_iter().map(|i| i.name).collect();
    if names.is_empty() {
        "none found in /sys/class/net".to_owned()
    } else {
        names.join(", ")
    }
}

/// Most interface names remembered; past that, new indexes stay unnamed (shown by number).
const MAX_NAMES: usize = 4096;

/// Interface names for reports under `-i any`, looked up on first use of each index.
///
/// A name is leaked once per index (the report borrows it for as long as the program runs),
/// bounded by [`MAX_NAMES`]. An interface renamed later keeps the name it had when first seen.
#[derive(Debug, Default)]
pub struct SysNames {
    known: RefCell<Vec<(u32, &'static str)>>,
}

impl SysNames {
    /// Starts with the interfaces that exist now.
    pub fn new() -> SysNames {
        let names = SysNames::default();
        for i in list() {
            names.remember(i.index, i.name);
        }
        names
    }

    fn remember(&self, index: u32, name: String) -> Option<&'static str> {
        let mut known = self.known.borrow_mut();
        if known.len() >= MAX_NAMES {
            return None;
        }
        let s: &'static str = Box::leak(name.into_boxed_str());
        known.push((index, s));
        Some(s)
    }

    /// The name of `index`, reading `/sys` once for an index not seen before.
    pub fn get(&self, index: u32) -> Option<&'static str> {
        if let Some(&(_, n)) = self.known.borrow().iter().find(|(i, _)| *i == index) {
            return Some(n);
        }
        let found = list().into_iter().find(|i| i.index == index)?;
        self.remember(index, found.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_exists_and_is_named() {
        let lo = lookup("lo").expect("every Linux network namespace has lo");
        assert_eq!(lo.index, 1);
        assert!(list().iter().any(|i| i.name == "lo"));
        assert!(list_names().contains("lo"));
        assert_eq!(SysNames::new().get(1), Some("lo"));
        assert_eq!(SysNames::new().get(u32::MAX), None);
    }

    #[test]
    fn bad_names_are_not_found() {
        assert_eq!(lookup("no-such-iface0"), None);
        assert_eq!(lookup("../lo"), None);
        assert_eq!(lookup(""), None);
    }
}
