//! Agents' decision logic as plain functions of (parameters, state, market view), free of the
//! ECS: the systems in `sim/` feed them and carry out what they decide.

pub mod hunter;
pub mod maker;
