//! (placeholder: filled in by the capfile work)
