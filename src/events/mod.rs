//! Events (placeholder).
