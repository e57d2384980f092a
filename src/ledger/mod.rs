//! Ledger (placeholder).
