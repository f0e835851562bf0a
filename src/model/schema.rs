//! The serde schema of the model file, one struct per TOML table. These are the file's words,
//! unchecked; `validate.rs` turns them into a `Model` and `write.rs` builds them back.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMeta {
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub provenance: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub classes: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawInput {
    pub height: usize,
    pub width: usize,
    pub channels: usize,
    pub bits: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum RawFrontEnd {
    Glt {
        /// One set shared by every channel.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        thresholds: Option<Vec<i64>>,
        /// One set per channel.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        channel_thresholds: Option<Vec<Vec<i64>>>,
    },
    Uniform {
        levels: i64,
    },
    Binary {},
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RawPadMode {
    MinusOne,
    PlusOne,
    Zero,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RawResidualOp {
    Or,
    And,
    Xor,
    Xnor,
}

fn one() -> i64 {
    1
}

fn is_one(v: &i64) -> bool {
    *v == 1
}

fn is_zero(v: &i64) -> bool {
    *v == 0
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum RawLayer {
    Conv {
        name: String,
        out_channels: i64,
        /// [height, width]
        kernel: [i64; 2],
        #[serde(default = "one", skip_serializing_if = "is_one")]
        stride: i64,
        #[serde(default, skip_serializing_if = "is_zero")]
        padding: i64,
        pad_mode: RawPadMode,
        #[serde(default = "one", skip_serializing_if = "is_one")]
        in_blocks: i64,
        #[serde(default = "one", skip_serializing_if = "is_one")]
        out_blocks: i64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        mask: Option<Vec<String>>,
        thresholds: Vec<i64>,
        directions: Vec<i64>,
        weights: String,
    },
    Maxpool {
        name: String,
        kernel: i64,
        stride: i64,
    },
    Residual {
        name: String,
        with: String,
        op: RawResidualOp,
    },
    Dense {
        name: String,
        out_features: i64,
        #[serde(default = "one", skip_serializing_if = "is_one")]
        in_blocks: i64,
        #[serde(default = "one", skip_serializing_if = "is_one")]
        out_blocks: i64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        mask: Option<Vec<String>>,
        thresholds: Vec<i64>,
        directions: Vec<i64>,
        weights: String,
    },
    Classifier {
        name: String,
        out_features: i64,
        #[serde(default = "one", skip_serializing_if = "is_one")]
        in_blocks: i64,
        #[serde(default = "one", skip_serializing_if = "is_one")]
        out_blocks: i64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        mask: Option<Vec<String>>,
        bias: Vec<i64>,
        weights: String,
    },
}

/// The whole file, as written back by `write.rs`.
#[derive(Debug, Clone, Serialize)]
pub struct RawModel {
    pub format_version: u32,
    pub meta: RawMeta,
    pub input: RawInput,
    pub front_end: RawFrontEnd,
    pub layers: Vec<RawLayer>,
}
