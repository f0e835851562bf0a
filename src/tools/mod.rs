//! External tools at the edge of bnngen: each driver finds its tool, runs it with a log and
//! parses its output into structs.

pub mod locate;
pub mod nextpnr;
pub mod pack;
pub mod yosys;
