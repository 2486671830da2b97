//! pktstat: per-flow packet statistics (the CLI is filled in by the cli work).
mod error;
mod live;
mod settings;

fn main() {}
