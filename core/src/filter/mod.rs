//! (placeholder: filled in by the filter work)
