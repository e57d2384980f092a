//! Margin maths (placeholder; being written).
