//! The per-run random key of the flow table's hash.
//!
//! A keyed hash stops someone who can send us packets from choosing flow keys that all land
//! in one slot. The key comes from the kernel's random pool (`/dev/urandom`, read with std
//! so that no `unsafe` is needed outside the capture code); if that is unavailable (a
//! chroot without /dev, a kernel without it) we fall back to the time, the process id and
//! an address-space-layout-dependent address, and say once that the hash is predictable.

use std::io::Read;
use std::time::{SystemTime, UNIX_EPOCH};

/// A fresh key for `Engine::set_seed`.
pub fn random_seed() -> [u64; 2] {
    match urandom() {
        Ok(seed) => seed,
        Err(e) => {
            log::warn!(
                "cannot read /dev/urandom ({}); the flow hash key is derived from the time \
                 and process id instead",
                crate::output::io_reason(&e)
            );
            fallback_seed()
        }
    }
}

fn urandom() -> std::io::Result<[u64; 2]> {
    let mut bytes = [0u8; 16];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    let (a, b) = bytes.split_at(8);
    Ok([
        u64::from_le_bytes(a.try_into().unwrap_or_default()),
        u64::from_le_bytes(b.try_into().unwrap_or_default()),
    ])
}

/// Time, pid and a stack address, mixed (splitmix64 finaliser) so every bit depends on all.
fn fallback_seed() -> [u64; 2] {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let local = 0u8;
    let addr = std::ptr::addr_of!(local) as usize as u64;
    let pid = u64::from(std::process::id());
    [
        mix(nanos ^ pid.rotate_left(32)),
        mix(addr ^ mix(nanos.wrapping_add(pid))),
    ]
}

fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_differ() {
        let a = random_seed();
        let b = random_seed();
        assert_ne!(a, b);
        assert_ne!(a[0], a[1]);
    }

    #[test]
    fn fallback_mixes() {
        let a = fallback_seed();
        assert_ne!(a[0], 0);
        assert_ne!(a[0], a[1]);
        assert_ne!(mix(1), mix(2));
    }
}
