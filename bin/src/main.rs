//! pktstat: per-flow packet statistics (placeholder until the CLI lands).
fn main() {}
