//! Makes the linker start at `pktstat_bare_entry`, so the whole core it reaches is linked
//! (and checked for `std` / allocator symbols) instead of being garbage-collected.
fn main() {
    println!("cargo:rustc-link-arg=--entry=pktstat_bare_entry");
}
