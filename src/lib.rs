//! bnngen: from a trained fully-binarized network to bit-exact, synthesizable Verilog.
//!
//! Data flows one way: model file -> [`model::Model`] -> plan -> netlist -> Verilog, with the
//! [`reference`] model beside the plan as the independent judge of what the hardware must
//! compute. See `docs/architecture.md`.

pub mod flow;
pub mod input;
pub mod model;
pub mod output;
pub mod plan;
pub mod prng;
pub mod qonnx;
pub mod random;
pub mod reference;
pub mod report;
pub mod rtl;
pub mod sensor;
pub mod synth;
pub mod tools;
#[cfg(feature = "train")]
pub mod train;
pub mod verify;
