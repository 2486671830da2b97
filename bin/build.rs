//! Records the target triple for `pktstat --version` (`pktstat X.Y.Z (TRIPLE)`).

fn main() {
    let target = std::env::var("TARGET").unwrap_or_else(|_| String::from("unknown"));
    println!("cargo:rustc-env=PKTSTAT_TARGET={target}");
    println!("cargo:rerun-if-changed=build.rs");
}
