//! End-to-end tests live in `tests/tests/`; shared helpers in `tests/src/`.
