//! (placeholder: filled in by the wire work)
