//! (placeholder: filled in by the accounting work)
